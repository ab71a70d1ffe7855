// Reads TFLite flatbuffers into a personcls Graph.
//
// The checks are the runtime core's (runtime/tflite_model.h): the FlatBuffers verifier,
// then each tensor and op semantically (indices in range, shapes sane and without
// overflow, constant buffers of the right size, quantization parameters consistent, ops
// and op versions supported). Any failure gives an error Status naming the file; nothing
// here aborts on bad input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls::tflite_format {

// `bytes` is kept alive by the returned Graph (constant tensors point into it).
Expected<Graph> ReadTflite(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name);

}  // namespace personcls::tflite_format
