// QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).
#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct QuantizeData {
  int64_t size = 0;
  bool from_float = true;
  float out_scale = 1.0f;
  int32_t out_zp = 0, in_zp = 0, multiplier = 0;
  int shift = 0;
};

bool PrepareQuantize(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 1, 1, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& output = ctx.output(0);
  if (input.num_elements() != output.num_elements()) return d.Fail("output size differs from input size");
  if (!ExpectType(output, DType::kInt8, "output", d) || !ExpectPerTensorQuant(output, "output", d)) return false;
  auto* p = ctx.CreateOpData<QuantizeData>(d);
  if (!p) return false;
  p->size = input.num_elements();
  p->out_scale = output.scale();
  p->out_zp = output.zero_point();
  p->from_float = input.dtype == DType::kFloat32;
  ctx.kernel_name = "f32_s8_quantize_ref";
  if (!p->from_float) {
    if (!ExpectType(input, DType::kInt8, "input", d) || !ExpectPerTensorQuant(input, "input", d)) return false;
    p->in_zp = input.zero_point();
    const double real = static_cast<double>(input.scale()) / static_cast<double>(p->out_scale);
    if (!quant::QuantizeModelMultiplier(real, &p->multiplier, &p->shift)) return d.Fail("input/output scale ratio out of range");
    ctx.kernel_name = "s8_requantize_ref";
  }
  return true;
}

void EvalQuantize(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const QuantizeData*>(op_data);
  if (p.from_float)
    ref::f32_to_s8_quantize(p.size, p.out_scale, p.out_zp, e.in<float>(0), e.out<int8_t>(0));
  else
    ref::s8_requantize(p.size, p.in_zp, p.out_zp, p.multiplier, p.shift, e.in<int8_t>(0), e.out<int8_t>(0));
}

struct DequantizeData {
  int64_t size = 0;
  double scale = 1.0;
  int32_t zp = 0;
};

bool PrepareDequantize(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 1, 1, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& output = ctx.output(0);
  if (input.num_elements() != output.num_elements()) return d.Fail("output size differs from input size");
  if (!ExpectType(input, DType::kInt8, "input", d) || !ExpectType(output, DType::kFloat32, "output", d) ||
      !ExpectPerTensorQuant(input, "input", d))
    return false;
  auto* p = ctx.CreateOpData<DequantizeData>(d);
  if (!p) return false;
  p->size = input.num_elements();
  p->scale = input.scale();
  p->zp = input.zero_point();
  ctx.kernel_name = "s8_f32_dequantize_ref";
  return true;
}

void EvalDequantize(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const DequantizeData*>(op_data);
  ref::s8_to_f32_dequantize(p.size, p.scale, p.zp, e.in<int8_t>(0), e.out<float>(0));
}

}  // namespace

extern const OpKernel kQuantizeKernel{PrepareQuantize, EvalQuantize};
extern const OpKernel kDequantizeKernel{PrepareDequantize, EvalDequantize};

}  // namespace personcls
