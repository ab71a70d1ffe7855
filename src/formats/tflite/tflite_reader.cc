#include "formats/tflite/tflite_reader.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "formats/tflite/schema_generated.h"

namespace personcls::tflite_format {
namespace {

constexpr int kMaxRank = 6;
// No tensor personcls runs comes near this; it keeps every size computation in int64.
constexpr int64_t kMaxTensorBytes = int64_t{1} << 31;

Status Fail(const std::string& name, const std::string& what) { return Status::Error(name + ": " + what); }

std::optional<DType> ConvertType(tflite::TensorType t) {
  switch (t) {
    case tflite::TensorType::FLOAT32: return DType::kFloat32;
    case tflite::TensorType::INT8: return DType::kInt8;
    case tflite::TensorType::UINT8: return DType::kUint8;
    case tflite::TensorType::INT16: return DType::kInt16;
    case tflite::TensorType::INT32: return DType::kInt32;
    case tflite::TensorType::INT64: return DType::kInt64;
    default: return std::nullopt;
  }
}

std::optional<OpType> ConvertOp(int32_t code) {
  switch (static_cast<tflite::BuiltinOperator>(code)) {
    case tflite::BuiltinOperator::ADD: return OpType::kAdd;
    case tflite::BuiltinOperator::AVERAGE_POOL_2D: return OpType::kAveragePool2D;
    case tflite::BuiltinOperator::CONV_2D: return OpType::kConv2D;
    case tflite::BuiltinOperator::DEPTHWISE_CONV_2D: return OpType::kDepthwiseConv2D;
    case tflite::BuiltinOperator::DEQUANTIZE: return OpType::kDequantize;
    case tflite::BuiltinOperator::FULLY_CONNECTED: return OpType::kFullyConnected;
    case tflite::BuiltinOperator::LOGISTIC: return OpType::kLogistic;
    case tflite::BuiltinOperator::MAX_POOL_2D: return OpType::kMaxPool2D;
    case tflite::BuiltinOperator::MEAN: return OpType::kMean;
    case tflite::BuiltinOperator::PAD: return OpType::kPad;
    case tflite::BuiltinOperator::QUANTIZE: return OpType::kQuantize;
    case tflite::BuiltinOperator::RESHAPE: return OpType::kReshape;
    case tflite::BuiltinOperator::SOFTMAX: return OpType::kSoftmax;
    default: return std::nullopt;
  }
}

std::string OpCodeName(int32_t code) {
  const char* n = tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(code));
  if (n && *n) return n;
  return "builtin op " + std::to_string(code);
}

std::optional<Activation> ConvertActivation(tflite::ActivationFunctionType a) {
  switch (a) {
    case tflite::ActivationFunctionType::NONE: return Activation::kNone;
    case tflite::ActivationFunctionType::RELU: return Activation::kRelu;
    case tflite::ActivationFunctionType::RELU6: return Activation::kRelu6;
    default: return std::nullopt;
  }
}

Padding ConvertPadding(tflite::Padding p) { return p == tflite::Padding::SAME ? Padding::kSame : Padding::kValid; }

// Fills op.options from the flatbuffer's builtin options; fails on options personcls
// cannot honour (other activations, dilation != 1 for pooling, ...).
Status ReadOptions(const tflite::Operator& fb_op, OpDesc& op) {
  auto activation = [&](tflite::ActivationFunctionType a) -> Status {
    auto act = ConvertActivation(a);
    if (!act) return Status::Error(std::string("fused activation ") + tflite::EnumNameActivationFunctionType(a) + " not supported");
    op.options.activation = *act;
    return Status::Ok();
  };
  auto require = [&](const void* options) -> Status {
    if (!options) return Status::Error("missing builtin options");
    return Status::Ok();
  };
  OpOptions& o = op.options;
  switch (op.type) {
    case OpType::kConv2D: {
      const auto* opt = fb_op.builtin_options_as_Conv2DOptions();
      PCLS_RETURN_IF_ERROR(require(opt));
      o.padding = ConvertPadding(opt->padding());
      o.stride_w = opt->stride_w();
      o.stride_h = opt->stride_h();
      o.dilation_w = opt->dilation_w_factor();
      o.dilation_h = opt->dilation_h_factor();
      return activation(opt->fused_activation_function());
    }
    case OpType::kDepthwiseConv2D: {
      const auto* opt = fb_op.builtin_options_as_DepthwiseConv2DOptions();
      PCLS_RETURN_IF_ERROR(require(opt));
      o.padding = ConvertPadding(opt->padding());
      o.stride_w = opt->stride_w();
      o.stride_h = opt->stride_h();
      o.dilation_w = opt->dilation_w_factor();
      o.dilation_h = opt->dilation_h_factor();
      o.depth_multiplier = opt->depth_multiplier();
      return activation(opt->fused_activation_function());
    }
    case OpType::kAveragePool2D:
    case OpType::kMaxPool2D: {
      const auto* opt = fb_op.builtin_options_as_Pool2DOptions();
      PCLS_RETURN_IF_ERROR(require(opt));
      o.padding = ConvertPadding(opt->padding());
      o.stride_w = opt->stride_w();
      o.stride_h = opt->stride_h();
      o.filter_w = opt->filter_width();
      o.filter_h = opt->filter_height();
      return activation(opt->fused_activation_function());
    }
    case OpType::kFullyConnected: {
      const auto* opt = fb_op.builtin_options_as_FullyConnectedOptions();
      if (!opt) return Status::Ok();  // all defaults
      if (opt->weights_format() != tflite::FullyConnectedOptionsWeightsFormat::DEFAULT)
        return Status::Error("shuffled FULLY_CONNECTED weights not supported");
      if (opt->keep_num_dims()) return Status::Error("FULLY_CONNECTED keep_num_dims not supported");
      return activation(opt->fused_activation_function());
    }
    case OpType::kAdd: {
      const auto* opt = fb_op.builtin_options_as_AddOptions();
      if (!opt) return Status::Ok();
      return activation(opt->fused_activation_function());
    }
    case OpType::kSoftmax: {
      const auto* opt = fb_op.builtin_options_as_SoftmaxOptions();
      o.softmax_beta = opt ? opt->beta() : 1.0f;
      if (!std::isfinite(o.softmax_beta) || o.softmax_beta <= 0) return Status::Error("SOFTMAX beta must be positive");
      return Status::Ok();
    }
    case OpType::kMean: {
      const auto* opt = fb_op.builtin_options_as_ReducerOptions();
      o.keep_dims = opt ? opt->keep_dims() : false;
      return Status::Ok();
    }
    default: return Status::Ok();  // RESHAPE takes its shape from the second input
  }
}

Status ReadQuant(const tflite::QuantizationParameters* q, const TensorDesc& t, QuantParams& out) {
  if (!q || !q->scale() || q->scale()->size() == 0) return Status::Ok();
  const auto* scale = q->scale();
  const auto* zp = q->zero_point();
  if (zp && zp->size() != scale->size() && zp->size() != 0)
    return Status::Error("quantization has " + std::to_string(scale->size()) + " scales but " + std::to_string(zp->size()) + " zero points");
  out.axis = q->quantized_dimension();
  if (scale->size() > 1) {
    // Some converters leave the filter's axis (3) on per-channel 1-D biases; a 1-D tensor
    // has only one axis it can mean.
    if (t.shape.size() == 1) out.axis = 0;
    if (out.axis < 0 || out.axis >= static_cast<int>(t.shape.size()))
      return Status::Error("quantized_dimension " + std::to_string(out.axis) + " out of range");
    if (static_cast<int64_t>(scale->size()) != t.shape[out.axis])
      return Status::Error("per-channel quantization has " + std::to_string(scale->size()) + " scales for dimension of size " + std::to_string(t.shape[out.axis]));
  }
  for (flatbuffers::uoffset_t i = 0; i < scale->size(); ++i) {
    float s = scale->Get(i);
    if (!std::isfinite(s) || s <= 0) return Status::Error("quantization scale must be finite and positive");
    // flatbuffers' verifier checks int64 vectors for 4-byte alignment only: read unaligned.
    int64_t z = 0;
    if (zp && zp->size() == scale->size()) std::memcpy(&z, reinterpret_cast<const uint8_t*>(zp->Data()) + size_t{8} * i, 8);
    if (z < std::numeric_limits<int32_t>::min() || z > std::numeric_limits<int32_t>::max())
      return Status::Error("quantization zero point out of range");
    if ((t.dtype == DType::kInt8 && (z < -128 || z > 127)) || (t.dtype == DType::kUint8 && (z < 0 || z > 255)))
      return Status::Error("zero point " + std::to_string(z) + " outside the range of " + DTypeName(t.dtype));
    out.scale.push_back(s);
    out.zero_point.push_back(static_cast<int32_t>(z));
  }
  return Status::Ok();
}

Status ReadTensor(const tflite::Tensor& fb, const tflite::Model& model, const uint8_t* file_begin, size_t file_size,
                  Graph& graph, TensorDesc& t) {
  t.name = fb.name() ? fb.name()->str() : "";
  auto type = ConvertType(fb.type());
  if (!type) return Status::Error(std::string("type ") + tflite::EnumNameTensorType(fb.type()) + " not supported");
  t.dtype = *type;
  if (fb.shape()) {
    if (fb.shape()->size() > kMaxRank) return Status::Error("rank " + std::to_string(fb.shape()->size()) + " exceeds " + std::to_string(kMaxRank));
    int64_t bytes = static_cast<int64_t>(DTypeSize(t.dtype));
    for (int32_t d : *fb.shape()) {
      if (d < 0) return Status::Error("negative or dynamic dimension " + std::to_string(d));
      bytes *= d;
      if (bytes > kMaxTensorBytes) return Status::Error("tensor too large (shape product overflows)");
      t.shape.push_back(d);
    }
  }
  PCLS_RETURN_IF_ERROR(ReadQuant(fb.quantization(), t, t.quant));

  const auto* buffers = model.buffers();
  const uint32_t buffer_index = fb.buffer();
  if (!buffers || buffer_index >= buffers->size())
    return Status::Error("buffer index " + std::to_string(buffer_index) + " out of range");
  const tflite::Buffer* buffer = buffers->Get(buffer_index);
  if (!buffer) return Status::Error("buffer " + std::to_string(buffer_index) + " missing");
  if (buffer->offset() != 0 || buffer->size() != 0) {
    (void)file_begin;
    (void)file_size;
    return Status::Error("buffer " + std::to_string(buffer_index) + " stored outside the flatbuffer (models over 2 GB) not supported");
  }
  if (buffer->data() && buffer->data()->size() > 0) {
    const auto* data = buffer->data();
    if (static_cast<int64_t>(data->size()) != t.num_bytes())
      return Status::Error("buffer " + std::to_string(buffer_index) + " holds " + std::to_string(data->size()) + " bytes, shape needs " +
                           std::to_string(t.num_bytes()));
    const uint8_t* p = data->data();
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) {
      // Writers align buffers to 16 bytes; copy the rare unaligned one so kernels may
      // read it as typed data.
      auto copy = std::shared_ptr<uint8_t[]>(new uint8_t[data->size() + 16]);
      uint8_t* aligned = copy.get() + (16 - reinterpret_cast<uintptr_t>(copy.get()) % 16) % 16;
      std::memcpy(aligned, p, data->size());
      graph.storage.push_back(std::shared_ptr<const void>(copy, aligned));
      p = aligned;
    }
    t.data = p;
  }
  return Status::Ok();
}

Status CheckIndices(const flatbuffers::Vector<int32_t>* v, size_t num_tensors, bool allow_omitted, const char* what,
                    std::vector<int>& out) {
  if (!v) return Status::Ok();
  for (int32_t i : *v) {
    if (i == -1 && allow_omitted) {
      out.push_back(-1);
      continue;
    }
    if (i < 0 || static_cast<size_t>(i) >= num_tensors)
      return Status::Error(std::string(what) + " tensor index " + std::to_string(i) + " out of range (" + std::to_string(num_tensors) + " tensors)");
    out.push_back(i);
  }
  return Status::Ok();
}

}  // namespace

int MaxSupportedVersion(OpType type) {
  // The op versions TFLite's converter emits for float32/int8 graphs of these ops; later
  // versions add types or features (int16, int4, ...) that personcls does not run.
  switch (type) {
    case OpType::kAdd: return 5;
    case OpType::kAveragePool2D: return 3;
    case OpType::kConv2D: return 6;
    case OpType::kDepthwiseConv2D: return 7;
    case OpType::kDequantize: return 6;
    case OpType::kFullyConnected: return 11;
    case OpType::kLogistic: return 3;
    case OpType::kMaxPool2D: return 3;
    case OpType::kMean: return 3;
    case OpType::kPad: return 4;
    case OpType::kQuantize: return 3;
    case OpType::kReshape: return 1;
    case OpType::kSoftmax: return 3;
  }
  return 1;
}

Expected<Graph> ReadTflite(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  const uint8_t* data = bytes->data();
  const size_t size = bytes->size();
  if (size == 0) return Fail(name, "empty file");
  if (size < 8) return Fail(name, "too short to be a TFLite model (" + std::to_string(size) + " bytes)");
  if (!flatbuffers::BufferHasIdentifier(data, tflite::ModelIdentifier()))
    return Fail(name, "not a TFLite model (missing \"TFL3\" identifier)");
  if (size >= std::numeric_limits<flatbuffers::uoffset_t>::max()) return Fail(name, "file too large");
  flatbuffers::Verifier::Options vopts;
  vopts.max_depth = 64;
  vopts.max_tables = 1000000;
  flatbuffers::Verifier verifier(data, size, vopts);
  if (!tflite::VerifyModelBuffer(verifier)) return Fail(name, "corrupt TFLite flatbuffer (verifier failed)");

  const tflite::Model* model = tflite::GetModel(data);
  if (!model->subgraphs() || model->subgraphs()->size() == 0) return Fail(name, "model has no subgraph");
  if (model->subgraphs()->size() > 1) return Fail(name, "models with several subgraphs (control flow) are not supported");
  const tflite::SubGraph* sg = model->subgraphs()->Get(0);
  if (!sg->tensors() || sg->tensors()->size() == 0) return Fail(name, "subgraph has no tensors");

  Graph graph;
  graph.storage.push_back(bytes);
  if (model->description()) graph.description = model->description()->str();

  const size_t num_tensors = sg->tensors()->size();
  graph.tensors.resize(num_tensors);
  for (size_t i = 0; i < num_tensors; ++i) {
    const tflite::Tensor* fb = sg->tensors()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (!fb) return Fail(name, "tensor " + std::to_string(i) + " missing");
    Status s = ReadTensor(*fb, *model, data, size, graph, graph.tensors[i]);
    if (!s.ok()) return Fail(name, "tensor " + std::to_string(i) + " '" + graph.tensors[i].name + "': " + s.message());
  }

  Status s = CheckIndices(sg->inputs(), num_tensors, false, "input", graph.inputs);
  if (s.ok()) s = CheckIndices(sg->outputs(), num_tensors, false, "output", graph.outputs);
  if (!s.ok()) return Fail(name, "subgraph: " + s.message());
  if (graph.inputs.empty() || graph.outputs.empty()) return Fail(name, "subgraph has no inputs or no outputs");

  if (!sg->operators() || sg->operators()->size() == 0) return Fail(name, "subgraph has no operators");
  const auto* codes = model->operator_codes();
  for (size_t i = 0; i < sg->operators()->size(); ++i) {
    const tflite::Operator* fb_op = sg->operators()->Get(static_cast<flatbuffers::uoffset_t>(i));
    const std::string where = "operator " + std::to_string(i);
    if (!fb_op) return Fail(name, where + " missing");
    if (!codes || fb_op->opcode_index() >= codes->size())
      return Fail(name, where + ": opcode index " + std::to_string(fb_op->opcode_index()) + " out of range");
    const tflite::OperatorCode* code = codes->Get(fb_op->opcode_index());
    if (!code) return Fail(name, where + ": operator code missing");
    const int32_t builtin = std::max<int32_t>(code->deprecated_builtin_code(), static_cast<int32_t>(code->builtin_code()));
    if (builtin == static_cast<int32_t>(tflite::BuiltinOperator::CUSTOM))
      return Fail(name, where + ": custom op '" + (code->custom_code() ? code->custom_code()->str() : "") + "' not supported");
    auto type = ConvertOp(builtin);
    if (!type) return Fail(name, where + ": op " + OpCodeName(builtin) + " not supported");
    OpDesc op;
    op.type = *type;
    op.version = code->version();
    if (op.version < 1 || op.version > MaxSupportedVersion(op.type))
      return Fail(name, where + " (" + OpTypeName(op.type) + "): op version " + std::to_string(op.version) + " not supported (max " +
                            std::to_string(MaxSupportedVersion(op.type)) + ")");
    s = CheckIndices(fb_op->inputs(), num_tensors, true, "input", op.inputs);
    if (s.ok()) s = CheckIndices(fb_op->outputs(), num_tensors, false, "output", op.outputs);
    if (s.ok()) s = ReadOptions(*fb_op, op);
    if (!s.ok()) return Fail(name, where + " (" + OpTypeName(op.type) + "): " + s.message());
    graph.ops.push_back(std::move(op));
  }

  if (model->metadata() && model->buffers()) {
    for (const tflite::Metadata* m : *model->metadata()) {
      if (!m || !m->name()) continue;
      if (m->buffer() >= model->buffers()->size()) return Fail(name, "metadata '" + m->name()->str() + "': buffer index out of range");
      const tflite::Buffer* b = model->buffers()->Get(m->buffer());
      std::vector<uint8_t> value;
      if (b && b->data()) value.assign(b->data()->begin(), b->data()->end());
      graph.metadata[m->name()->str()] = std::move(value);
    }
  }
  return graph;
}

}  // namespace personcls::tflite_format
