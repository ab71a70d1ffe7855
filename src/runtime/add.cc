// ADD with broadcasting over up to 4 dimensions.
#include <algorithm>

#include "runtime/kernel.h"
#include "runtime/kernel_params.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct AddData {
  ref::BroadcastGeometry g{};
  ref::S8AddParams p;
  F32Clamp clamp{0, 0};
  DType dtype = DType::kFloat32;
};

// Right-aligns `t`'s shape to 4-D and gives each dim the stride it has in `t`, or 0 where
// the dim is broadcast.
bool BroadcastStrides(const TensorView& t, const int out[4], int64_t strides[4]) {
  if (t.rank > 4) return false;
  int dims[4];
  const int lead = 4 - t.rank;
  for (int d = 0; d < 4; ++d) dims[d] = d < lead ? 1 : t.dims[d - lead];
  int64_t stride = 1;
  for (int d = 3; d >= 0; --d) {
    if (dims[d] != out[d] && dims[d] != 1) return false;
    strides[d] = dims[d] == 1 ? 0 : stride;
    stride *= dims[d];
  }
  return true;
}

bool PrepareAdd(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 2, 2, d)) return false;
  const TensorView& a = *ctx.input(0);
  const TensorView& b = *ctx.input(1);
  const TensorView& output = ctx.output(0);
  if (output.rank > 4) return d.Fail("rank above 4 not supported");
  auto* data = ctx.CreateOpData<AddData>(d);
  if (!data) return false;
  ref::BroadcastGeometry& g = data->g;
  const int lead = 4 - output.rank;
  for (int i = 0; i < 4; ++i) g.out_shape[i] = i < lead ? 1 : output.dims[i - lead];
  if (!BroadcastStrides(a, g.out_shape, g.a_strides) || !BroadcastStrides(b, g.out_shape, g.b_strides))
    return d.Fail("inputs %s and %s do not broadcast to %s", a.shape_text().c_str(), b.shape_text().c_str(), output.shape_text().c_str());
  data->dtype = a.dtype;
  if (!ExpectType(b, data->dtype, "input 2", d) || !ExpectType(output, data->dtype, "output", d)) return false;
  const Activation act = ctx.op.options.activation;
  if (data->dtype == DType::kInt8) {
    if (!ExpectPerTensorQuant(a, "input 1", d) || !ExpectPerTensorQuant(b, "input 2", d) || !ExpectPerTensorQuant(output, "output", d))
      return false;
    ref::S8AddParams& p = data->p;
    p.left_shift = 20;
    p.input1_offset = -a.zero_point();
    p.input2_offset = -b.zero_point();
    p.output_offset = output.zero_point();
    const double twice_max = 2.0 * static_cast<double>(std::max(a.scale(), b.scale()));
    const double real1 = static_cast<double>(a.scale()) / twice_max;
    const double real2 = static_cast<double>(b.scale()) / twice_max;
    const double real_out = twice_max / (static_cast<double>(1 << p.left_shift) * static_cast<double>(output.scale()));
    if (real_out >= 1.0) return d.Fail("output scale too small relative to input scales");
    // All three multipliers are below 1, so their shifts are <= 0 ("SmallerThanOneExp").
    quant::QuantizeMultiplier(real1, &p.input1_multiplier, &p.input1_shift);
    quant::QuantizeMultiplier(real2, &p.input2_multiplier, &p.input2_shift);
    quant::QuantizeMultiplier(real_out, &p.output_multiplier, &p.output_shift);
    quant::ActivationRangeInt8(act, output.scale(), output.zero_point(), &p.act_min, &p.act_max);
    ctx.kernel_name = "s8_add_ref";
  } else if (data->dtype == DType::kFloat32) {
    quant::ActivationRangeFloat(act, &data->clamp.min, &data->clamp.max);
    ctx.kernel_name = "f32_add_ref";
  } else {
    return d.Fail("input type %s not supported", DTypeName(data->dtype));
  }
  return true;
}

void EvalAdd(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const AddData*>(op_data);
  if (p.dtype == DType::kInt8)
    ref::s8_add(p.g, p.p, e.in<int8_t>(0), e.in<int8_t>(1), e.out<int8_t>(0));
  else
    ref::f32_add(p.g, p.clamp, e.in<float>(0), e.in<float>(1), e.out<float>(0));
}

}  // namespace

extern const OpKernel kAddKernel{PrepareAdd, EvalAdd};

}  // namespace personcls
