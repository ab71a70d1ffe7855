// Names and sizes of the enums in personcls/types.h. Portable: part of the runtime core
// that also builds for microcontrollers.
#include "personcls/types.h"

namespace personcls {

const char* DTypeName(DType type) {
  switch (type) {
    case DType::kFloat32: return "float32";
    case DType::kInt8: return "int8";
    case DType::kUint8: return "uint8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
  }
  return "?";
}

size_t DTypeSize(DType type) {
  switch (type) {
    case DType::kInt8:
    case DType::kUint8: return 1;
    case DType::kInt16: return 2;
    case DType::kFloat32:
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
  }
  return 0;
}

const char* OpTypeName(OpType type) {
  switch (type) {
    case OpType::kAdd: return "ADD";
    case OpType::kAveragePool2D: return "AVERAGE_POOL_2D";
    case OpType::kConv2D: return "CONV_2D";
    case OpType::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpType::kDequantize: return "DEQUANTIZE";
    case OpType::kFullyConnected: return "FULLY_CONNECTED";
    case OpType::kLogistic: return "LOGISTIC";
    case OpType::kMaxPool2D: return "MAX_POOL_2D";
    case OpType::kMean: return "MEAN";
    case OpType::kPad: return "PAD";
    case OpType::kQuantize: return "QUANTIZE";
    case OpType::kReshape: return "RESHAPE";
    case OpType::kSoftmax: return "SOFTMAX";
  }
  return "?";
}

const char* ActivationName(Activation a) {
  switch (a) {
    case Activation::kNone: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kRelu6: return "RELU6";
  }
  return "?";
}

}  // namespace personcls
