#include "formats/tflite/tflite_writer.h"

#include <map>

#include "formats/tflite/schema_generated.h"

namespace personcls::tflite_format {
namespace {

tflite::TensorType ToTfl(DType t) {
  switch (t) {
    case DType::kFloat32: return tflite::TensorType::FLOAT32;
    case DType::kInt8: return tflite::TensorType::INT8;
    case DType::kUint8: return tflite::TensorType::UINT8;
    case DType::kInt16: return tflite::TensorType::INT16;
    case DType::kInt32: return tflite::TensorType::INT32;
    case DType::kInt64: return tflite::TensorType::INT64;
  }
  return tflite::TensorType::FLOAT32;
}

tflite::BuiltinOperator ToTfl(OpType t) {
  switch (t) {
    case OpType::kAdd: return tflite::BuiltinOperator::ADD;
    case OpType::kAveragePool2D: return tflite::BuiltinOperator::AVERAGE_POOL_2D;
    case OpType::kConv2D: return tflite::BuiltinOperator::CONV_2D;
    case OpType::kDepthwiseConv2D: return tflite::BuiltinOperator::DEPTHWISE_CONV_2D;
    case OpType::kDequantize: return tflite::BuiltinOperator::DEQUANTIZE;
    case OpType::kFullyConnected: return tflite::BuiltinOperator::FULLY_CONNECTED;
    case OpType::kLogistic: return tflite::BuiltinOperator::LOGISTIC;
    case OpType::kMaxPool2D: return tflite::BuiltinOperator::MAX_POOL_2D;
    case OpType::kMean: return tflite::BuiltinOperator::MEAN;
    case OpType::kPad: return tflite::BuiltinOperator::PAD;
    case OpType::kQuantize: return tflite::BuiltinOperator::QUANTIZE;
    case OpType::kReshape: return tflite::BuiltinOperator::RESHAPE;
    case OpType::kSoftmax: return tflite::BuiltinOperator::SOFTMAX;
  }
  return tflite::BuiltinOperator::ADD;
}

tflite::ActivationFunctionType ToTfl(Activation a) {
  switch (a) {
    case Activation::kNone: return tflite::ActivationFunctionType::NONE;
    case Activation::kRelu: return tflite::ActivationFunctionType::RELU;
    case Activation::kRelu6: return tflite::ActivationFunctionType::RELU6;
  }
  return tflite::ActivationFunctionType::NONE;
}

tflite::Padding ToTfl(Padding p) { return p == Padding::kSame ? tflite::Padding::SAME : tflite::Padding::VALID; }

// Builds the builtin options table of `op`; returns the union type and offset.
std::pair<tflite::BuiltinOptions, flatbuffers::Offset<void>> BuildOptions(flatbuffers::FlatBufferBuilder& fbb, const OpDesc& op) {
  const OpOptions& o = op.options;
  switch (op.type) {
    case OpType::kConv2D:
      return {tflite::BuiltinOptions::Conv2DOptions,
              tflite::CreateConv2DOptions(fbb, ToTfl(o.padding), o.stride_w, o.stride_h, ToTfl(o.activation), o.dilation_w, o.dilation_h).Union()};
    case OpType::kDepthwiseConv2D:
      return {tflite::BuiltinOptions::DepthwiseConv2DOptions,
              tflite::CreateDepthwiseConv2DOptions(fbb, ToTfl(o.padding), o.stride_w, o.stride_h, o.depth_multiplier, ToTfl(o.activation),
                                                   o.dilation_w, o.dilation_h)
                  .Union()};
    case OpType::kAveragePool2D:
    case OpType::kMaxPool2D:
      return {tflite::BuiltinOptions::Pool2DOptions,
              tflite::CreatePool2DOptions(fbb, ToTfl(o.padding), o.stride_w, o.stride_h, o.filter_w, o.filter_h, ToTfl(o.activation)).Union()};
    case OpType::kFullyConnected:
      return {tflite::BuiltinOptions::FullyConnectedOptions, tflite::CreateFullyConnectedOptions(fbb, ToTfl(o.activation)).Union()};
    case OpType::kSoftmax:
      return {tflite::BuiltinOptions::SoftmaxOptions, tflite::CreateSoftmaxOptions(fbb, o.softmax_beta).Union()};
    case OpType::kAdd:
      return {tflite::BuiltinOptions::AddOptions, tflite::CreateAddOptions(fbb, ToTfl(o.activation)).Union()};
    case OpType::kMean:
      return {tflite::BuiltinOptions::ReducerOptions, tflite::CreateReducerOptions(fbb, o.keep_dims).Union()};
    case OpType::kPad:
      return {tflite::BuiltinOptions::PadOptions, tflite::CreatePadOptions(fbb).Union()};
    case OpType::kQuantize:
      return {tflite::BuiltinOptions::QuantizeOptions, tflite::CreateQuantizeOptions(fbb).Union()};
    case OpType::kDequantize:
      return {tflite::BuiltinOptions::DequantizeOptions, tflite::CreateDequantizeOptions(fbb).Union()};
    case OpType::kReshape:
    case OpType::kLogistic:
      return {tflite::BuiltinOptions::NONE, 0};
  }
  return {tflite::BuiltinOptions::NONE, 0};
}

}  // namespace

Expected<std::vector<uint8_t>> WriteTflite(const Graph& graph) {
  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  // Buffer 0 is the empty sentinel by convention.
  std::vector<flatbuffers::Offset<tflite::Buffer>> buffers{tflite::CreateBuffer(fbb)};
  std::vector<flatbuffers::Offset<tflite::Tensor>> tensors;
  for (const TensorDesc& t : graph.tensors) {
    uint32_t buffer_index = 0;
    if (t.is_constant()) {
      // Buffer data aligned to 16 bytes so readers can use it in place.
      fbb.ForceVectorAlignment(static_cast<size_t>(t.num_bytes()), 1, 16);
      auto data = fbb.CreateVector(t.data, static_cast<size_t>(t.num_bytes()));
      buffer_index = static_cast<uint32_t>(buffers.size());
      buffers.push_back(tflite::CreateBuffer(fbb, data));
    } else {
      buffer_index = static_cast<uint32_t>(buffers.size());
      buffers.push_back(tflite::CreateBuffer(fbb));
    }
    flatbuffers::Offset<tflite::QuantizationParameters> quant = 0;
    if (!t.quant.empty()) {
      std::vector<int64_t> zps(t.quant.zero_point.begin(), t.quant.zero_point.end());
      quant = tflite::CreateQuantizationParameters(fbb, 0, 0, fbb.CreateVector(t.quant.scale), fbb.CreateVector(zps),
                                                   tflite::QuantizationDetails::NONE, 0, t.quant.axis);
    }
    tensors.push_back(tflite::CreateTensor(fbb, fbb.CreateVector(t.shape), ToTfl(t.dtype), buffer_index, fbb.CreateString(t.name), quant));
  }

  std::map<std::pair<tflite::BuiltinOperator, int>, uint32_t> code_index;
  std::vector<flatbuffers::Offset<tflite::OperatorCode>> codes;
  std::vector<flatbuffers::Offset<tflite::Operator>> operators;
  for (const OpDesc& op : graph.ops) {
    const auto builtin = ToTfl(op.type);
    auto key = std::make_pair(builtin, op.version);
    auto [it, inserted] = code_index.emplace(key, static_cast<uint32_t>(codes.size()));
    if (inserted) {
      const int32_t code = static_cast<int32_t>(builtin);
      codes.push_back(tflite::CreateOperatorCode(fbb, static_cast<int8_t>(code < 127 ? code : 127), 0, op.version, builtin));
    }
    auto [options_type, options] = BuildOptions(fbb, op);
    operators.push_back(tflite::CreateOperator(fbb, it->second, fbb.CreateVector(op.inputs), fbb.CreateVector(op.outputs), options_type, options));
  }
  auto subgraph = tflite::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(graph.inputs), fbb.CreateVector(graph.outputs),
                                         fbb.CreateVector(operators), fbb.CreateString("main"));

  std::vector<flatbuffers::Offset<tflite::Metadata>> metadata;
  for (const auto& [name, bytes] : graph.metadata) {
    const uint32_t index = static_cast<uint32_t>(buffers.size());
    buffers.push_back(tflite::CreateBuffer(fbb, fbb.CreateVector(bytes)));
    metadata.push_back(tflite::CreateMetadata(fbb, fbb.CreateString(name), index));
  }
  auto model = tflite::CreateModel(fbb, 3, fbb.CreateVector(codes), fbb.CreateVector(std::vector{subgraph}),
                                   fbb.CreateString(graph.description), fbb.CreateVector(buffers), 0, fbb.CreateVector(metadata));
  tflite::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace personcls::tflite_format
