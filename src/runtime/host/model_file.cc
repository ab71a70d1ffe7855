#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>

#include "core/file_bytes.h"
#include "core/memory_budget.h"
#include "formats/tflite/tflite_reader.h"
#include "personcls/model.h"

namespace personcls {

Expected<std::vector<uint8_t>> ReadFileBytes(const std::string& path) { return ReadBinaryFile(path); }

namespace {

// The formats of the optional libraries, so that a missing one gets a useful error.
struct KnownFormat {
  const char* extension;
  const char* library;
};
constexpr KnownFormat kOptionalFormats[] = {{".onnx", "personcls::onnx"}, {".safetensors", "personcls::checkpoint"}, {".pth", "personcls::checkpoint"}};

struct Registry {
  std::mutex mutex;
  std::vector<ModelFormat> formats;
};
Registry& Formats() {
  static Registry registry;  // constructed on first use: registration runs in static initializers
  return registry;
}

std::string LowerExtension(const std::string& name) {
  std::string ext = std::filesystem::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool IsTflite(const std::vector<uint8_t>& bytes) { return bytes.size() >= 8 && std::equal(bytes.begin() + 4, bytes.begin() + 8, "TFL3"); }

// The registered format for `name`'s extension; nullopt for TFLite (no other format). An
// extension of an optional library that is not linked is an error.
Expected<std::optional<ModelFormat>> FormatFor(const std::string& name) {
  const std::string ext = LowerExtension(name);
  {
    Registry& r = Formats();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (const ModelFormat& f : r.formats)
      if (ext == f.extension) return std::optional<ModelFormat>(f);
  }
  for (const KnownFormat& k : kOptionalFormats)
    if (ext == k.extension) return Status::Error(name + ": reading " + ext + " models needs the " + k.library + " library (or personcls::personcls)");
  return std::optional<ModelFormat>();
}

Expected<std::shared_ptr<const Graph>> ReadTfliteBytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  auto graph = tflite_format::ReadTflite(std::move(bytes), name);
  if (!graph.ok()) return graph.status();
  return std::shared_ptr<const Graph>(std::make_shared<Graph>(std::move(graph).value()));
}

}  // namespace

void RegisterModelFormat(const ModelFormat& format) {
  Registry& r = Formats();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (ModelFormat& f : r.formats)
    if (std::strcmp(f.extension, format.extension) == 0) {
      f = format;
      return;
    }
  r.formats.push_back(format);
}

// The readers bound what a file can make them allocate (core/memory_budget.h); an allocation
// that still fails is one line naming the file (GuardAllocation).
Expected<std::shared_ptr<const Graph>> LoadModelBytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  return GuardAllocation(name, [&]() -> Expected<std::shared_ptr<const Graph>> {
    if (IsTflite(*bytes)) return ReadTfliteBytes(std::move(bytes), name);
    PCLS_ASSIGN_OR_RETURN(const std::optional<ModelFormat> format, FormatFor(name));
    if (format && format->load_bytes) return format->load_bytes(std::move(bytes), name);
    if (format) return Status::Error(name + ": " + format->extension + " models are read from files only");
    return ReadTfliteBytes(std::move(bytes), name);
  });
}

Expected<std::shared_ptr<const Graph>> LoadModelFile(const std::string& path) {
  PCLS_ASSIGN_OR_RETURN(const std::optional<ModelFormat> format, FormatFor(path));
  if (format && format->load_file) return GuardAllocation(path, [&] { return format->load_file(path); });
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  return LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(std::move(bytes).value()), path);
}

}  // namespace personcls
