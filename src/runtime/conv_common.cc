#include "runtime/conv_common.h"

#include "runtime/quant_math.h"

namespace personcls {

Status PrepareSpatialGeometry(const TensorDesc& input, const TensorDesc& output, int k_h, int k_w, const OpOptions& o,
                              ConvGeometry& g, const ExplicitPadding* folded) {
  PCLS_RETURN_IF_ERROR(ExpectRank(input, 4, "input"));
  PCLS_RETURN_IF_ERROR(ExpectRank(output, 4, "output"));
  if (o.stride_h < 1 || o.stride_w < 1 || o.stride_h > 1024 || o.stride_w > 1024) return Status::Error("invalid stride");
  if (o.dilation_h < 1 || o.dilation_w < 1 || o.dilation_h > 1024 || o.dilation_w > 1024) return Status::Error("invalid dilation");
  if (k_h < 1 || k_w < 1 || k_h > 1024 || k_w > 1024) return Status::Error("invalid kernel size");
  g.batch = input.shape[0];
  g.in_h = input.shape[1];
  g.in_w = input.shape[2];
  g.in_c = input.shape[3];
  g.k_h = k_h;
  g.k_w = k_w;
  g.stride_h = o.stride_h;
  g.stride_w = o.stride_w;
  g.dilation_h = o.dilation_h;
  g.dilation_w = o.dilation_w;
  const bool same = o.padding == Padding::kSame;
  if (folded && same) return Status::Error("a PAD can only be folded into a VALID convolution");
  // A folded PAD makes the VALID op see an input of (top + H + bottom) x (left + W + right);
  // taps that fall into it read padding (the reference skips them).
  const int padded_h = g.in_h + (folded ? folded->top + folded->bottom : 0);
  const int padded_w = g.in_w + (folded ? folded->left + folded->right : 0);
  g.out_h = ConvOutputSize(same, padded_h, k_h, g.stride_h, g.dilation_h);
  g.out_w = ConvOutputSize(same, padded_w, k_w, g.stride_w, g.dilation_w);
  if (g.out_h < 1 || g.out_w < 1) return Status::Error("kernel larger than input " + ShapeString(input.shape));
  g.pad_top = same ? ConvLeadingPadding(g.stride_h, g.dilation_h, g.in_h, k_h, g.out_h) : (folded ? folded->top : 0);
  g.pad_left = same ? ConvLeadingPadding(g.stride_w, g.dilation_w, g.in_w, k_w, g.out_w) : (folded ? folded->left : 0);
  g.out_c = output.shape[3];
  if (output.shape[0] != g.batch || output.shape[1] != g.out_h || output.shape[2] != g.out_w)
    return Status::Error("output shape " + ShapeString(output.shape) + " disagrees with computed [" + std::to_string(g.batch) + "," +
                         std::to_string(g.out_h) + "," + std::to_string(g.out_w) + "," + std::to_string(g.out_c) + "]");
  return Status::Ok();
}

Status PrepareS8ConvQuant(const TensorDesc& input, const TensorDesc& filter, const TensorDesc& output, int out_channels,
                          Activation act, S8ConvQuant& out) {
  PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(input, "input"));
  PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
  const size_t n = filter.quant.scale.size();
  if (n != 1 && n != static_cast<size_t>(out_channels))
    return Status::Error("filter has " + std::to_string(n) + " scales for " + std::to_string(out_channels) + " output channels");
  for (int32_t zp : filter.quant.zero_point)
    if (zp != 0) return Status::Error("int8 filter zero point must be 0 (symmetric weights)");
  out.multiplier.resize(n);
  out.shift.resize(n);
  for (size_t c = 0; c < n; ++c) {
    const double real = static_cast<double>(input.quant.scale[0]) * static_cast<double>(filter.quant.scale[c]) /
                        static_cast<double>(output.quant.scale[0]);
    int shift = 0;
    if (!quant::QuantizeModelMultiplier(real, &out.multiplier[c], &shift))
      return Status::Error("requantization multiplier " + std::to_string(real) + " out of range (input, filter and output scales disagree)");
    out.shift[c] = shift;
  }
  S8Requant& q = out.requant;
  q.input_offset = -input.quant.zero_point[0];
  q.output_offset = output.quant.zero_point[0];
  q.multiplier = out.multiplier.data();
  q.shift = out.shift.data();
  q.per_tensor = n == 1;
  quant::ActivationRangeInt8(act, output.quant.scale[0], output.quant.zero_point[0], &q.act_min, &q.act_max);
  return Status::Ok();
}

Status CheckS8AccumulationDepth(int64_t depth) {
  // Each product of offset int8 values is below 2^16; 2^15 of them stay inside int32.
  if (depth > kMaxS8AccumulationDepth)
    return Status::Error("accumulates " + std::to_string(depth) + " products per output, more than int32 holds safely (" +
                         std::to_string(kMaxS8AccumulationDepth) + ")");
  return Status::Ok();
}

Status CheckBias(const TensorDesc* bias, int channels, DType type) {
  if (!bias) return Status::Ok();
  if (!bias->is_constant()) return Status::Error("bias must be constant");
  PCLS_RETURN_IF_ERROR(ExpectType(*bias, type, "bias"));
  if (bias->num_elements() != channels)
    return Status::Error("bias has " + std::to_string(bias->num_elements()) + " elements for " + std::to_string(channels) + " channels");
  return Status::Ok();
}

Status ConvLikeKernel::PrepareArithmetic(const KernelContext& ctx, const TensorDesc& filter, const TensorDesc* bias) {
  const TensorDesc& input = *ctx.input(0);
  const TensorDesc& output = ctx.output(0);
  const Activation act = ctx.op->options.activation;
  dtype_ = input.dtype;
  if (dtype_ == DType::kInt8) {
    PCLS_RETURN_IF_ERROR(CheckS8AccumulationDepth(filter.num_elements() / g_.out_c));
    PCLS_RETURN_IF_ERROR(ExpectType(filter, DType::kInt8, "filter"));
    PCLS_RETURN_IF_ERROR(ExpectType(output, DType::kInt8, "output"));
    PCLS_RETURN_IF_ERROR(CheckBias(bias, g_.out_c, DType::kInt32));
    PCLS_RETURN_IF_ERROR(PrepareS8ConvQuant(input, filter, output, g_.out_c, act, quant_));
    if (ctx.use_fast)
      fast_ = fns_.s8_fast(g_, quant_.requant, reinterpret_cast<const int8_t*>(filter.data),
                           bias ? reinterpret_cast<const int32_t*>(bias->data) : nullptr, ctx.num_threads);
  } else if (dtype_ == DType::kFloat32) {
    PCLS_RETURN_IF_ERROR(ExpectType(filter, DType::kFloat32, "filter"));
    PCLS_RETURN_IF_ERROR(ExpectType(output, DType::kFloat32, "output"));
    PCLS_RETURN_IF_ERROR(CheckBias(bias, g_.out_c, DType::kFloat32));
    quant::ActivationRangeFloat(act, &clamp_.min, &clamp_.max);
    if (ctx.use_fast)
      fast_ = fns_.f32_fast(g_, clamp_, reinterpret_cast<const float*>(filter.data), bias ? reinterpret_cast<const float*>(bias->data) : nullptr,
                            ctx.num_threads);
  } else {
    return Status::Error(std::string("input type ") + DTypeName(dtype_) + " not supported");
  }
  return Status::Ok();
}

void ConvLikeKernel::Eval(const KernelBuffers& b) {
  if (fast_) return fast_->Run(b.inputs[0], b.outputs[0], b.scratch, b.num_threads);
  const void* bias = b.inputs.size() > 2 ? b.inputs[2] : nullptr;
  if (dtype_ == DType::kInt8)
    fns_.s8_ref(g_, quant_.requant, b.in<int8_t>(0), b.in<int8_t>(1), static_cast<const int32_t*>(bias), b.out<int8_t>(0));
  else
    fns_.f32_ref(g_, clamp_, b.in<float>(0), b.in<float>(1), static_cast<const float*>(bias), b.out<float>(0));
}

std::string ConvLikeKernel::name() const {
  if (fast_) return fast_->name();
  return dtype_ == DType::kInt8 ? fns_.s8_ref_name : fns_.f32_ref_name;
}

}  // namespace personcls
