// Writes a personcls Graph as a TFLite flatbuffer ("TFL3", schema version 3) that
// TensorFlow Lite, TFLite Micro and our own reader accept.
#pragma once

#include <cstdint>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls::tflite_format {

// Serializes `graph` (constant data copied into buffers, metadata entries as Metadata
// tables). Fails on ops or options the TFLite format cannot express.
Expected<std::vector<uint8_t>> WriteTflite(const Graph& graph);

}  // namespace personcls::tflite_format
