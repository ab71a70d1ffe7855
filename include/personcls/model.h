// Loading models from files or memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls {

// Reads a model file: TFLite flatbuffers (recognised by their "TFL3" identifier) or, for
// names ending in .onnx, float32 ONNX models. Errors name the file: "m.tflite: corrupt
// TFLite flatbuffer (verifier failed)".
Expected<std::shared_ptr<const Graph>> LoadModelFile(const std::string& path);

// Parses a model held in memory; the Graph keeps `bytes` alive. `name` is used in errors.
Expected<std::shared_ptr<const Graph>> LoadModelBytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name);

// Reads a whole file; the error names the file and the reason.
Expected<std::vector<uint8_t>> ReadFileBytes(const std::string& path);

}  // namespace personcls
