// Loading models from files or memory.
//
// The runtime library (personcls::runtime) reads TFLite flatbuffers. Other formats come from
// optional libraries that register a reader here when they are linked:
//   .onnx                  float32 ONNX models        personcls::onnx
//   .safetensors, .pth     personcls / PyTorch checkpoints (fused into the deploy graph,
//                          architecture inferred)      personcls::checkpoint
// personcls::personcls links both. Without the library, such a file gets an error that
// names it ("m.onnx: reading .onnx models needs the personcls::onnx library").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls {

// Reads a model file: TFLite flatbuffers (recognised by their "TFL3" identifier), or a
// format registered for the file's extension (see above). Errors name the file: "m.tflite:
// corrupt TFLite flatbuffer (verifier failed)".
Expected<std::shared_ptr<const Graph>> LoadModelFile(const std::string& path);

// Parses a model held in memory; the Graph keeps `bytes` alive. `name` is used in errors and,
// through its extension, picks a registered format that reads bytes (ONNX).
Expected<std::shared_ptr<const Graph>> LoadModelBytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name);

// Reads a whole file; the error names the file and the reason.
Expected<std::vector<uint8_t>> ReadFileBytes(const std::string& path);

// For format libraries: a reader for files whose name ends in `extension` (lower case, with
// the dot). load_bytes may be null when the format is read from files only. A file that
// starts with TFLite's identifier is always read as TFLite. Registering an extension again
// replaces its reader. Thread-safe; the strings must have static storage.
struct ModelFormat {
  const char* extension;  // ".onnx"
  Expected<std::shared_ptr<const Graph>> (*load_file)(const std::string& path);
  Expected<std::shared_ptr<const Graph>> (*load_bytes)(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name);
};
void RegisterModelFormat(const ModelFormat& format);

}  // namespace personcls
