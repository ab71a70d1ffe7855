// Reads ONNX float32 models of the MobileNet family into a personcls Graph.
//
// Supported (default domain, opset 11..17): Conv (dense and depthwise groups), Relu, Clip
// as ReLU/ReLU6, Pad (constant 0), AveragePool, MaxPool, GlobalAveragePool, ReduceMean,
// Flatten, Reshape, Gemm, MatMul, Add, Softmax (after a Mul by a scalar: its beta), Sigmoid,
// Identity, Constant, and the Transposes that only switch between NCHW and NHWC views.
// The Graph is NHWC like every personcls graph: a 4-D ONNX input [N,C,H,W] becomes the
// Graph input [N,H,W,C] (an NHWC input read only through Transpose(0,3,1,2), tf2onnx's
// form, stays as it is), filters become OHWI. Relu/Clip after Conv, Gemm, Add or a pool
// is fused into that op.
//
// The input is untrusted: every index, shape, attribute and initializer size is checked
// and any failure is one error line naming the file and the node ("m.onnx: node 12
// 'conv3' (Conv): ..."). Constant data is copied into storage the Graph owns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls::onnx_format {

Expected<Graph> ReadOnnx(const std::vector<uint8_t>& bytes, const std::string& name);

}  // namespace personcls::onnx_format
