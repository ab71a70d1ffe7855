#include "runtime/conv_common.h"

#include "runtime/quant_math.h"

namespace personcls {

bool PrepareSpatialGeometry(const TensorView& input, const TensorView& output, int k_h, int k_w, const OpOptions& o,
                            ConvGeometry& g, Diag& d, const ExplicitPadding* folded) {
  if (!ExpectRank(input, 4, "input", d) || !ExpectRank(output, 4, "output", d)) return false;
  if (o.stride_h < 1 || o.stride_w < 1 || o.stride_h > 1024 || o.stride_w > 1024) return d.Fail("invalid stride");
  if (o.dilation_h < 1 || o.dilation_w < 1 || o.dilation_h > 1024 || o.dilation_w > 1024) return d.Fail("invalid dilation");
  if (k_h < 1 || k_w < 1 || k_h > 1024 || k_w > 1024) return d.Fail("invalid kernel size");
  g.batch = input.dims[0];
  g.in_h = input.dims[1];
  g.in_w = input.dims[2];
  g.in_c = input.dims[3];
  g.k_h = k_h;
  g.k_w = k_w;
  g.stride_h = o.stride_h;
  g.stride_w = o.stride_w;
  g.dilation_h = o.dilation_h;
  g.dilation_w = o.dilation_w;
  const bool same = o.padding == Padding::kSame;
  if (folded && same) return d.Fail("a PAD can only be folded into a VALID convolution");
  // A folded PAD makes the VALID op see an input of (top + H + bottom) x (left + W + right);
  // taps that fall into it read padding (the reference skips them).
  const int padded_h = g.in_h + (folded ? folded->top + folded->bottom : 0);
  const int padded_w = g.in_w + (folded ? folded->left + folded->right : 0);
  g.out_h = ConvOutputSize(same, padded_h, k_h, g.stride_h, g.dilation_h);
  g.out_w = ConvOutputSize(same, padded_w, k_w, g.stride_w, g.dilation_w);
  if (g.out_h < 1 || g.out_w < 1) return d.Fail("kernel larger than input %s", input.shape_text().c_str());
  g.pad_top = same ? ConvLeadingPadding(g.stride_h, g.dilation_h, g.in_h, k_h, g.out_h) : (folded ? folded->top : 0);
  g.pad_left = same ? ConvLeadingPadding(g.stride_w, g.dilation_w, g.in_w, k_w, g.out_w) : (folded ? folded->left : 0);
  g.out_c = output.dims[3];
  if (output.dims[0] != g.batch || output.dims[1] != g.out_h || output.dims[2] != g.out_w)
    return d.Fail("output shape %s disagrees with computed [%d,%d,%d,%d]", output.shape_text().c_str(), g.batch, g.out_h, g.out_w,
                  g.out_c);
  return true;
}

bool PrepareS8ConvQuant(PrepareContext& ctx, const TensorView& input, const TensorView& filter, const TensorView& output,
                        int out_channels, Activation act, S8Requant& q, Diag& d) {
  if (!ExpectPerTensorQuant(input, "input", d) || !ExpectPerTensorQuant(output, "output", d)) return false;
  const int n = filter.num_scales;
  if (n != 1 && n != out_channels) return d.Fail("filter has %d scales for %d output channels", n, out_channels);
  for (int c = 0; c < n; ++c)
    if (filter.zero_point(c) != 0) return d.Fail("int8 filter zero point must be 0 (symmetric weights)");
  int32_t* multiplier = ctx.CreateArray<int32_t>(n, d);
  int32_t* shift = ctx.CreateArray<int32_t>(n, d);
  if (!multiplier || !shift) return false;
  for (int c = 0; c < n; ++c) {
    const double real = static_cast<double>(input.scale()) * static_cast<double>(filter.scale(c)) / static_cast<double>(output.scale());
    int s = 0;
    if (!quant::QuantizeModelMultiplier(real, &multiplier[c], &s))
      return d.Fail("requantization multiplier of channel %d out of range (input, filter and output scales disagree)", c);
    shift[c] = s;
  }
  q.input_offset = -input.zero_point();
  q.output_offset = output.zero_point();
  q.multiplier = multiplier;
  q.shift = shift;
  q.per_tensor = n == 1;
  quant::ActivationRangeInt8(act, output.scale(), output.zero_point(), &q.act_min, &q.act_max);
  return true;
}

bool CheckS8AccumulationDepth(int64_t depth, Diag& d) {
  // Each product of offset int8 values is below 2^16; 2^15 of them stay inside int32.
  if (depth > kMaxS8AccumulationDepth)
    return d.Fail("accumulates %ld products per output, more than int32 holds safely (%ld)", static_cast<long>(depth),
                  static_cast<long>(kMaxS8AccumulationDepth));
  return true;
}

bool CheckBias(const TensorView* bias, int channels, DType type, Diag& d) {
  if (!bias) return true;
  if (!bias->is_constant()) return d.Fail("bias must be constant");
  if (!ExpectType(*bias, type, "bias", d)) return false;
  if (bias->num_elements() != channels)
    return d.Fail("bias has %ld elements for %d channels", static_cast<long>(bias->num_elements()), channels);
  return true;
}

bool PrepareConvArithmetic(PrepareContext& ctx, ConvOpData& data, const TensorView& filter, const TensorView* bias, Diag& d) {
  const TensorView& input = *ctx.input(0);
  const TensorView& output = ctx.output(0);
  const Activation act = ctx.op.options.activation;
  const ConvKernelFunctions& fns = *data.fns;
  const ConvGeometry& g = data.g;
  data.dtype = input.dtype;
  if (data.dtype == DType::kInt8) {
    if (!CheckS8AccumulationDepth(filter.num_elements() / g.out_c, d) || !ExpectType(filter, DType::kInt8, "filter", d) ||
        !ExpectType(output, DType::kInt8, "output", d) || !CheckBias(bias, g.out_c, DType::kInt32, d) ||
        !PrepareS8ConvQuant(ctx, input, filter, output, g.out_c, act, data.q, d))
      return false;
    ctx.kernel_name = fns.s8_ref_name;
    const auto* w = filter.constant<int8_t>();
    const int32_t* b = bias ? bias->constant<int32_t>() : nullptr;
    if (ctx.use_fast && ctx.fast_factory) {
      const FastKernelChoice c = (ctx.fast_factory->*fns.s8_fast)(g, data.q, w, b);
      data.fast = c.kernel;
      if (c.kernel) ctx.kernel_name = c.name;
    } else if (ctx.use_fast && fns.s8_mcu(g, data.q, w, b, *ctx.allocator, &data.mcu)) {
      ctx.kernel_name = data.mcu.name;
      ctx.scratch_bytes = data.mcu.scratch_bytes;
    }
  } else if (data.dtype == DType::kFloat32) {
    if (!ExpectType(filter, DType::kFloat32, "filter", d) || !ExpectType(output, DType::kFloat32, "output", d) ||
        !CheckBias(bias, g.out_c, DType::kFloat32, d))
      return false;
    quant::ActivationRangeFloat(act, &data.clamp.min, &data.clamp.max);
    ctx.kernel_name = fns.f32_ref_name;
    if (ctx.use_fast && ctx.fast_factory) {
      const FastKernelChoice c =
          (ctx.fast_factory->*fns.f32_fast)(g, data.clamp, filter.constant<float>(), bias ? bias->constant<float>() : nullptr);
      data.fast = c.kernel;
      if (c.kernel) ctx.kernel_name = c.name;
    }
  } else {
    return d.Fail("input type %s not supported", DTypeName(data.dtype));
  }
  if (data.fast) ctx.scratch_bytes = data.fast->scratch_bytes();
  return true;
}

void EvalConv(const void* op_data, const EvalContext& e) {
  const ConvOpData& p = *static_cast<const ConvOpData*>(op_data);
  if (p.fast) return p.fast->Run(e.inputs[0], e.outputs[0], e.scratch, e.num_threads);
  const void* bias = e.inputs[2];
  if (p.dtype == DType::kInt8) {
    if (p.mcu.run)
      return p.mcu.run(p.g, p.q, e.in<int8_t>(0), e.in<int8_t>(1), static_cast<const int32_t*>(bias), e.out<int8_t>(0), e.scratch,
                       p.mcu.extra);
    p.fns->s8_ref(p.g, p.q, e.in<int8_t>(0), e.in<int8_t>(1), static_cast<const int32_t*>(bias), e.out<int8_t>(0));
  } else {
    p.fns->f32_ref(p.g, p.clamp, e.in<float>(0), e.in<float>(1), static_cast<const float*>(bias), e.out<float>(0));
  }
}

}  // namespace personcls
