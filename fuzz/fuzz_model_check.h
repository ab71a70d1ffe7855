// Shared body of the model-loader fuzz targets: bytes loaded as a model file named `name`
// (the extension picks the reader), prepared and, for models small enough, invoked. None
// of it may crash, hang or trip a sanitizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "personcls/interpreter.h"
#include "personcls/model.h"

inline int FuzzModelBytes(const uint8_t* data, size_t size, const char* name) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(data, data + size);
  auto graph = personcls::LoadModelBytes(bytes, name);
  if (!graph.ok()) return 0;
  personcls::InterpreterOptions options;
  options.max_arena_bytes = 64 << 20;
  auto interpreter = personcls::Interpreter::Create(*graph, options);
  if (!interpreter.ok()) return 0;
  if ((*interpreter)->total_macs() < 50'000'000) (*interpreter)->Invoke();
  return 0;
}
