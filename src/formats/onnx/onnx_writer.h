// Writes a float32 personcls Graph as an ONNX model (opset 13, IR version 7) that ONNX
// Runtime and our own reader accept.
//
// The ONNX graph is NCHW: its input `input` is [N, C, H, W] float (the same values the
// Graph's NHWC input takes, pixel / 255 unless metadata "normalization" says otherwise),
// its output `output` (`output_1`, ... for more) the Graph's output values. Filters are
// transposed to OIHW, SAME padding becomes explicit pads (TFLite puts the odd pixel at
// the end), a PAD feeding one VALID conv is folded into the conv's pads, depthwise convs
// become grouped Convs, MEAN over H,W GlobalAveragePool, FULLY_CONNECTED Gemm, fused
// RELU/RELU6 Relu/Clip. Graph metadata goes to metadata_props; producer "personcls".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls::onnx_format {

inline constexpr int kOpsetVersion = 13;

// Serializes `graph` and runs onnx::checker and strict shape inference on the result.
// Fails (naming the op) on int8 graphs and on ops or options ONNX cannot express here.
Expected<std::vector<uint8_t>> WriteOnnx(const Graph& graph, const std::string& producer_version);

}  // namespace personcls::onnx_format
