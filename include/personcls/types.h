// Element types, op types and op options: the vocabulary shared by personcls::Graph (the
// in-memory model on the PC) and the portable runtime core that also runs on
// microcontrollers (personcls/micro_interpreter.h). Plain enums and a POD struct, no heap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace personcls {

enum class DType : uint8_t { kFloat32, kInt8, kUint8, kInt16, kInt32, kInt64 };

const char* DTypeName(DType type);
size_t DTypeSize(DType type);

enum class OpType : uint8_t {
  kAdd,
  kAveragePool2D,
  kConv2D,
  kDepthwiseConv2D,
  kDequantize,
  kFullyConnected,
  kLogistic,
  kMaxPool2D,
  kMean,
  kPad,
  kQuantize,
  kReshape,
  kSoftmax,
};
const char* OpTypeName(OpType type);  // TFLite's name, e.g. "CONV_2D"

enum class Activation : uint8_t { kNone, kRelu, kRelu6 };
enum class Padding : uint8_t { kSame, kValid };
const char* ActivationName(Activation a);

// Options of every supported op in one flat struct; each op reads the fields it needs.
struct OpOptions {
  Padding padding = Padding::kValid;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int filter_h = 1, filter_w = 1;  // pooling window
  int depth_multiplier = 1;
  Activation activation = Activation::kNone;
  float softmax_beta = 1.0f;
  bool keep_dims = false;  // MEAN
};

}  // namespace personcls
