// libFuzzer target: arbitrary bytes as a .tflite model. Loading, preparing and (for models
// small enough) invoking must never crash, hang or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "personcls/interpreter.h"
#include "personcls/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(data, data + size);
  auto graph = personcls::LoadModelBytes(bytes, "fuzz.tflite");
  if (!graph.ok()) return 0;
  personcls::InterpreterOptions options;
  options.max_arena_bytes = 64 << 20;
  auto interpreter = personcls::Interpreter::Create(*graph, options);
  if (!interpreter.ok()) return 0;
  if ((*interpreter)->total_macs() < 50'000'000) (*interpreter)->Invoke();
  return 0;
}
