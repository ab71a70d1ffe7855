#include "runtime/tflite_model.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "formats/tflite/schema_generated.h"

namespace personcls {
namespace {

// No tensor personcls runs comes near this; it keeps every size computation in int64.
constexpr int64_t kMaxTensorBytes = int64_t{1} << 31;

bool ConvertType(tflite::TensorType t, DType* out) {
  switch (t) {
    case tflite::TensorType::FLOAT32: *out = DType::kFloat32; return true;
    case tflite::TensorType::INT8: *out = DType::kInt8; return true;
    case tflite::TensorType::UINT8: *out = DType::kUint8; return true;
    case tflite::TensorType::INT16: *out = DType::kInt16; return true;
    case tflite::TensorType::INT32: *out = DType::kInt32; return true;
    case tflite::TensorType::INT64: *out = DType::kInt64; return true;
    default: return false;
  }
}

bool ConvertOp(int32_t code, OpType* out) {
  switch (static_cast<tflite::BuiltinOperator>(code)) {
    case tflite::BuiltinOperator::ADD: *out = OpType::kAdd; return true;
    case tflite::BuiltinOperator::AVERAGE_POOL_2D: *out = OpType::kAveragePool2D; return true;
    case tflite::BuiltinOperator::CONV_2D: *out = OpType::kConv2D; return true;
    case tflite::BuiltinOperator::DEPTHWISE_CONV_2D: *out = OpType::kDepthwiseConv2D; return true;
    case tflite::BuiltinOperator::DEQUANTIZE: *out = OpType::kDequantize; return true;
    case tflite::BuiltinOperator::FULLY_CONNECTED: *out = OpType::kFullyConnected; return true;
    case tflite::BuiltinOperator::LOGISTIC: *out = OpType::kLogistic; return true;
    case tflite::BuiltinOperator::MAX_POOL_2D: *out = OpType::kMaxPool2D; return true;
    case tflite::BuiltinOperator::MEAN: *out = OpType::kMean; return true;
    case tflite::BuiltinOperator::PAD: *out = OpType::kPad; return true;
    case tflite::BuiltinOperator::QUANTIZE: *out = OpType::kQuantize; return true;
    case tflite::BuiltinOperator::RESHAPE: *out = OpType::kReshape; return true;
    case tflite::BuiltinOperator::SOFTMAX: *out = OpType::kSoftmax; return true;
    default: return false;
  }
}

bool ConvertActivation(tflite::ActivationFunctionType a, Activation* out, Diag& d) {
  switch (a) {
    case tflite::ActivationFunctionType::NONE: *out = Activation::kNone; return true;
    case tflite::ActivationFunctionType::RELU: *out = Activation::kRelu; return true;
    case tflite::ActivationFunctionType::RELU6: *out = Activation::kRelu6; return true;
    default: return d.Fail("fused activation %s not supported", tflite::EnumNameActivationFunctionType(a));
  }
}

Padding ConvertPadding(tflite::Padding p) { return p == tflite::Padding::SAME ? Padding::kSame : Padding::kValid; }

// Padding, strides, dilation and fused activation of CONV_2D / DEPTHWISE_CONV_2D options.
template <typename ConvOptions>
bool ReadConvOptions(const ConvOptions* opt, OpOptions& o, Diag& d) {
  if (!opt) return d.Fail("missing builtin options");
  o.padding = ConvertPadding(opt->padding());
  o.stride_w = opt->stride_w();
  o.stride_h = opt->stride_h();
  o.dilation_w = opt->dilation_w_factor();
  o.dilation_h = opt->dilation_h_factor();
  return ConvertActivation(opt->fused_activation_function(), &o.activation, d);
}

// Fills op.options from the flatbuffer's builtin options; fails on options personcls
// cannot honour (other activations, shuffled weights, ...).
bool ReadOptions(const tflite::Operator& fb_op, OpView& op, Diag& d) {
  OpOptions& o = op.options;
  switch (op.type) {
    case OpType::kConv2D:
      return ReadConvOptions(fb_op.builtin_options_as_Conv2DOptions(), o, d);
    case OpType::kDepthwiseConv2D: {
      const auto* opt = fb_op.builtin_options_as_DepthwiseConv2DOptions();
      if (opt) o.depth_multiplier = opt->depth_multiplier();
      return ReadConvOptions(opt, o, d);
    }
    case OpType::kAveragePool2D:
    case OpType::kMaxPool2D: {
      const auto* opt = fb_op.builtin_options_as_Pool2DOptions();
      if (!opt) return d.Fail("missing builtin options");
      o.padding = ConvertPadding(opt->padding());
      o.stride_w = opt->stride_w();
      o.stride_h = opt->stride_h();
      o.filter_w = opt->filter_width();
      o.filter_h = opt->filter_height();
      return ConvertActivation(opt->fused_activation_function(), &o.activation, d);
    }
    case OpType::kFullyConnected: {
      const auto* opt = fb_op.builtin_options_as_FullyConnectedOptions();
      if (!opt) return true;  // all defaults
      if (opt->weights_format() != tflite::FullyConnectedOptionsWeightsFormat::DEFAULT)
        return d.Fail("shuffled FULLY_CONNECTED weights not supported");
      if (opt->keep_num_dims()) return d.Fail("FULLY_CONNECTED keep_num_dims not supported");
      return ConvertActivation(opt->fused_activation_function(), &o.activation, d);
    }
    case OpType::kAdd: {
      const auto* opt = fb_op.builtin_options_as_AddOptions();
      if (!opt) return true;
      return ConvertActivation(opt->fused_activation_function(), &o.activation, d);
    }
    case OpType::kSoftmax: {
      const auto* opt = fb_op.builtin_options_as_SoftmaxOptions();
      o.softmax_beta = opt ? opt->beta() : 1.0f;
      if (!std::isfinite(o.softmax_beta) || o.softmax_beta <= 0) return d.Fail("SOFTMAX beta must be positive");
      return true;
    }
    case OpType::kMean: {
      const auto* opt = fb_op.builtin_options_as_ReducerOptions();
      o.keep_dims = opt ? opt->keep_dims() : false;
      return true;
    }
    default: return true;  // RESHAPE takes its shape from the second input
  }
}

int64_t ReadInt64(const uint8_t* p) {
  int64_t v;
  std::memcpy(&v, p, sizeof(v));  // flatbuffers aligns int64 vectors to 4 bytes only
  return v;
}

bool ReadQuant(const tflite::QuantizationParameters* q, TensorView& t, Diag& d) {
  if (!q || !q->scale() || q->scale()->size() == 0) return true;
  const auto* scale = q->scale();
  const auto* zp = q->zero_point();
  const long n = static_cast<long>(scale->size());
  if (zp && zp->size() != scale->size() && zp->size() != 0)
    return d.Fail("quantization has %ld scales but %ld zero points", n, static_cast<long>(zp->size()));
  t.quant_axis = q->quantized_dimension();
  if (n > 1) {
    // Some converters leave the filter's axis (3) on per-channel 1-D biases; a 1-D tensor
    // has only one axis it can mean.
    if (t.rank == 1) t.quant_axis = 0;
    if (t.quant_axis < 0 || t.quant_axis >= t.rank) return d.Fail("quantized_dimension %d out of range", t.quant_axis);
    if (n != t.dims[t.quant_axis])
      return d.Fail("per-channel quantization has %ld scales for dimension of size %ld", n, static_cast<long>(t.dims[t.quant_axis]));
  }
  t.scales = scale->data();
  t.num_scales = static_cast<int>(n);
  t.zero_points = zp && zp->size() == scale->size() ? reinterpret_cast<const uint8_t*>(zp->Data()) : nullptr;
  for (int i = 0; i < t.num_scales; ++i) {
    const float s = t.scales[i];
    if (!std::isfinite(s) || s <= 0) return d.Fail("quantization scale must be finite and positive");
    const int64_t z = t.zero_points ? ReadInt64(t.zero_points + size_t{8} * i) : 0;
    if (z < std::numeric_limits<int32_t>::min() || z > std::numeric_limits<int32_t>::max())
      return d.Fail("quantization zero point out of range");
    if ((t.dtype == DType::kInt8 && (z < -128 || z > 127)) || (t.dtype == DType::kUint8 && (z < 0 || z > 255)))
      return d.Fail("zero point %ld outside the range of %s", static_cast<long>(z), DTypeName(t.dtype));
  }
  return true;
}

bool CheckIndices(const flatbuffers::Vector<int32_t>* v, int num_tensors, bool allow_omitted, const char* what, Diag& d) {
  if (!v) return true;
  for (int32_t i : *v) {
    if (i == -1 && allow_omitted) continue;
    if (i < 0 || i >= num_tensors)
      return d.Fail("%s tensor index %ld out of range (%d tensors)", what, static_cast<long>(i), num_tensors);
  }
  return true;
}

}  // namespace

int64_t TensorView::num_elements() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[i];
  return n;
}

int32_t TensorView::zero_point(int i) const {
  return zero_points ? static_cast<int32_t>(ReadInt64(zero_points + size_t{8} * i)) : 0;
}

bool TensorView::SameShape(const TensorView& other) const {
  if (rank != other.rank) return false;
  for (int i = 0; i < rank; ++i)
    if (dims[i] != other.dims[i]) return false;
  return true;
}

bool TensorView::SameQuantization(const TensorView& other) const {
  if (num_scales != other.num_scales) return false;
  for (int i = 0; i < num_scales; ++i)
    if (scales[i] != other.scales[i] || zero_point(i) != other.zero_point(i)) return false;
  return true;
}

int MaxSupportedOpVersion(OpType type) {
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

bool TfliteModel::Init(const uint8_t* data, size_t size, Diag& d) {
  model_ = nullptr;
  subgraph_ = nullptr;
  if (size == 0) return d.Fail("empty file");
  if (size < 8) return d.Fail("too short to be a TFLite model (%lu bytes)", static_cast<unsigned long>(size));
  if (!flatbuffers::BufferHasIdentifier(data, tflite::ModelIdentifier()))
    return d.Fail("not a TFLite model (missing \"TFL3\" identifier)");
  if (size >= std::numeric_limits<flatbuffers::uoffset_t>::max()) return d.Fail("file too large");
  // Typed reads of the model's scalars and constant buffers assume the flatbuffer itself
  // is 4-byte aligned (flatbuffers aligns everything relative to its start).
  if (reinterpret_cast<uintptr_t>(data) % 4 != 0) return d.Fail("model bytes must be 4-byte aligned in memory");
  flatbuffers::Verifier::Options options;
  options.max_depth = 64;
  options.max_tables = 1000000;
  flatbuffers::Verifier verifier(data, size, options);
  if (!tflite::VerifyModelBuffer(verifier)) return d.Fail("corrupt TFLite flatbuffer (verifier failed)");

  const tflite::Model* model = tflite::GetModel(data);
  if (!model->subgraphs() || model->subgraphs()->size() == 0) return d.Fail("model has no subgraph");
  if (model->subgraphs()->size() > 1) return d.Fail("models with several subgraphs (control flow) are not supported");
  const tflite::SubGraph* sg = model->subgraphs()->Get(0);
  if (!sg || !sg->tensors() || sg->tensors()->size() == 0) return d.Fail("subgraph has no tensors");
  if (sg->tensors()->size() > (1u << 24)) return d.Fail("too many tensors");
  const int n = static_cast<int>(sg->tensors()->size());
  if (!CheckIndices(sg->inputs(), n, false, "input", d) || !CheckIndices(sg->outputs(), n, false, "output", d))
    return d.Prefix("subgraph: ");
  if (!sg->inputs() || !sg->outputs() || sg->inputs()->size() == 0 || sg->outputs()->size() == 0)
    return d.Fail("subgraph has no inputs or no outputs");
  if (sg->operators() && sg->operators()->size() > (1u << 24)) return d.Fail("too many operators");
  model_ = model;
  subgraph_ = sg;
  return true;
}

int TfliteModel::num_tensors() const { return static_cast<int>(subgraph_->tensors()->size()); }
int TfliteModel::num_ops() const { return subgraph_->operators() ? static_cast<int>(subgraph_->operators()->size()) : 0; }
int TfliteModel::num_inputs() const { return static_cast<int>(subgraph_->inputs()->size()); }
int TfliteModel::num_outputs() const { return static_cast<int>(subgraph_->outputs()->size()); }
int TfliteModel::input(int i) const { return subgraph_->inputs()->Get(static_cast<flatbuffers::uoffset_t>(i)); }
int TfliteModel::output(int i) const { return subgraph_->outputs()->Get(static_cast<flatbuffers::uoffset_t>(i)); }
const char* TfliteModel::description() const { return model_->description() ? model_->description()->c_str() : ""; }

bool TfliteModel::ReadTensor(int i, TensorView& t, Diag& d) const {
  t = TensorView();
  t.index = i;
  const tflite::Tensor* fb = subgraph_->tensors()->Get(static_cast<flatbuffers::uoffset_t>(i));
  if (!fb) return d.Fail("missing");
  if (fb->name()) t.name = fb->name()->c_str();
  if (!ConvertType(fb->type(), &t.dtype)) return d.Fail("type %s not supported", tflite::EnumNameTensorType(fb->type()));
  if (fb->shape()) {
    if (fb->shape()->size() > kMaxTensorRank)
      return d.Fail("rank %lu exceeds %d", static_cast<unsigned long>(fb->shape()->size()), kMaxTensorRank);
    int64_t bytes = static_cast<int64_t>(DTypeSize(t.dtype));
    for (int32_t dim : *fb->shape()) {
      if (dim < 0) return d.Fail("negative or dynamic dimension %ld", static_cast<long>(dim));
      bytes *= dim;
      if (bytes > kMaxTensorBytes) return d.Fail("tensor too large (shape product overflows)");
      t.dims[t.rank++] = dim;
    }
  }
  if (!ReadQuant(fb->quantization(), t, d)) return false;

  const auto* buffers = model_->buffers();
  const uint32_t buffer_index = fb->buffer();
  if (!buffers || buffer_index >= buffers->size())
    return d.Fail("buffer index %lu out of range", static_cast<unsigned long>(buffer_index));
  const tflite::Buffer* buffer = buffers->Get(buffer_index);
  if (!buffer) return d.Fail("buffer %lu missing", static_cast<unsigned long>(buffer_index));
  if (buffer->offset() != 0 || buffer->size() != 0)
    return d.Fail("buffer %lu stored outside the flatbuffer (models over 2 GB) not supported", static_cast<unsigned long>(buffer_index));
  if (buffer->data() && buffer->data()->size() > 0) {
    const auto* data = buffer->data();
    if (static_cast<int64_t>(data->size()) != t.num_bytes())
      return d.Fail("buffer %lu holds %lu bytes, shape needs %ld", static_cast<unsigned long>(buffer_index),
                    static_cast<unsigned long>(data->size()), static_cast<long>(t.num_bytes()));
    t.data = data->data();
  }
  return true;
}

bool TfliteModel::ReadOp(int k, OpView& op, Diag& d) const {
  op = OpView();
  op.index = k;
  const tflite::Operator* fb_op = subgraph_->operators()->Get(static_cast<flatbuffers::uoffset_t>(k));
  if (!fb_op) return d.Fail("operator %d missing", k);
  const auto* codes = model_->operator_codes();
  if (!codes || fb_op->opcode_index() >= codes->size())
    return d.Fail("operator %d: opcode index %lu out of range", k, static_cast<unsigned long>(fb_op->opcode_index()));
  const tflite::OperatorCode* code = codes->Get(fb_op->opcode_index());
  if (!code) return d.Fail("operator %d: operator code missing", k);
  const int32_t builtin = std::max<int32_t>(code->deprecated_builtin_code(), static_cast<int32_t>(code->builtin_code()));
  if (builtin == static_cast<int32_t>(tflite::BuiltinOperator::CUSTOM))
    return d.Fail("operator %d: custom op '%s' not supported", k, code->custom_code() ? code->custom_code()->c_str() : "");
  if (!ConvertOp(builtin, &op.type)) {
    const char* name = tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(builtin));
    if (name && *name) return d.Fail("operator %d: op %s not supported", k, name);
    return d.Fail("operator %d: op builtin op %ld not supported", k, static_cast<long>(builtin));
  }
  op.version = code->version();
  if (op.version < 1 || op.version > MaxSupportedOpVersion(op.type))
    return d.Fail("operator %d (%s): op version %d not supported (max %d)", k, OpTypeName(op.type), op.version,
                  MaxSupportedOpVersion(op.type));
  const int n = num_tensors();
  if (!CheckIndices(fb_op->inputs(), n, true, "input", d) || !CheckIndices(fb_op->outputs(), n, false, "output", d) ||
      !ReadOptions(*fb_op, op, d))
    return d.Prefix("operator %d (%s): ", k, OpTypeName(op.type));
  if (fb_op->inputs()) {
    op.inputs = fb_op->inputs()->data();
    op.num_inputs = static_cast<int>(fb_op->inputs()->size());
  }
  if (fb_op->outputs()) {
    op.outputs = fb_op->outputs()->data();
    op.num_outputs = static_cast<int>(fb_op->outputs()->size());
  }
  return true;
}

}  // namespace personcls
