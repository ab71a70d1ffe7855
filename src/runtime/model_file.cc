#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/file_bytes.h"
#include "core/memory_budget.h"
#include "formats/onnx/onnx_reader.h"
#include "formats/tflite/tflite_reader.h"
#include "personcls/model.h"

namespace personcls {

Expected<std::vector<uint8_t>> ReadFileBytes(const std::string& path) { return ReadBinaryFile(path); }

namespace {

// ONNX files carry no magic number: a file is read as ONNX when it lacks TFLite's "TFL3"
// identifier and its name ends in .onnx.
bool IsOnnx(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (bytes.size() >= 8 && std::equal(bytes.begin() + 4, bytes.begin() + 8, "TFL3")) return false;
  if (name.size() < 5) return false;
  std::string ext = name.substr(name.size() - 5);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".onnx";
}

Expected<std::shared_ptr<const Graph>> LoadModelBytesUnguarded(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  if (IsOnnx(*bytes, name)) {
    auto graph = onnx_format::ReadOnnx(*bytes, name);
    if (!graph.ok()) return graph.status();
    return std::shared_ptr<const Graph>(std::make_shared<Graph>(std::move(graph).value()));
  }
  auto graph = tflite_format::ReadTflite(std::move(bytes), name);
  if (!graph.ok()) return graph.status();
  return std::shared_ptr<const Graph>(std::make_shared<Graph>(std::move(graph).value()));
}

}  // namespace

Expected<std::shared_ptr<const Graph>> LoadModelBytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  // The readers bound what a file can make them allocate (core/memory_budget.h); an
  // allocation that still fails is one line naming the file.
  return GuardAllocation(name, [&] { return LoadModelBytesUnguarded(std::move(bytes), name); });
}

Expected<std::shared_ptr<const Graph>> LoadModelFile(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  return LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(std::move(bytes).value()), path);
}

}  // namespace personcls
