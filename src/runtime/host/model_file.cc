#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "formats/onnx/onnx_reader.h"
#include "formats/tflite/tflite_reader.h"
#include "personcls/model.h"

namespace personcls {

Expected<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return Status::Error(path + ": is a directory");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof(chunk), f)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::Error(path + ": read error");
  return bytes;
}

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

}  // namespace

Expected<std::shared_ptr<const Graph>> LoadModelBytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  if (IsOnnx(*bytes, name)) {
    auto graph = onnx_format::ReadOnnx(*bytes, name);
    if (!graph.ok()) return graph.status();
    return std::shared_ptr<const Graph>(std::make_shared<Graph>(std::move(graph).value()));
  }
  auto graph = tflite_format::ReadTflite(std::move(bytes), name);
  if (!graph.ok()) return graph.status();
  return std::shared_ptr<const Graph>(std::make_shared<Graph>(std::move(graph).value()));
}

Expected<std::shared_ptr<const Graph>> LoadModelFile(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  return LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(std::move(bytes).value()), path);
}

}  // namespace personcls
