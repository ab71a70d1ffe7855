// LOGISTIC (sigmoid), elementwise.
#include <cmath>

#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct LogisticData {
  int64_t size = 0;
  DType dtype = DType::kFloat32;
  ref::S8LogisticParams p;
};

bool PrepareLogistic(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 1, 1, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& output = ctx.output(0);
  if (!output.SameShape(input)) return d.Fail("output shape differs from input shape");
  auto* data = ctx.CreateOpData<LogisticData>(d);
  if (!data) return false;
  data->size = input.num_elements();
  data->dtype = input.dtype;
  if (!ExpectType(output, data->dtype, "output", d)) return false;
  if (data->dtype == DType::kInt8) {
    if (!ExpectPerTensorQuant(input, "input", d) || !ExpectPerTensorQuant(output, "output", d)) return false;
    if (output.scale() != 1.0f / 256 || output.zero_point() != -128)
      return d.Fail("int8 output must have scale 1/256 and zero point -128");
    // Input rescaled into Q4.27: multiplier = scale * 2^27 split as frexp gives it.
    constexpr int kInputIntegerBits = 4;
    const double real = static_cast<double>(input.scale()) * static_cast<double>(int64_t{1} << (31 - kInputIntegerBits));
    int left_shift = 0;
    const double q = std::frexp(real, &left_shift);
    const int64_t m = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
    if (m >= (int64_t{1} << 31) || left_shift < 0 || left_shift > 30) return d.Fail("input scale out of range for int8 logistic");
    data->p.input_multiplier = static_cast<int32_t>(m);
    data->p.input_left_shift = left_shift;
    data->p.input_zero_point = input.zero_point();
    data->p.input_range_radius = quant::CalculateInputRadius(kInputIntegerBits, left_shift, 31);
    ctx.kernel_name = "s8_logistic_ref";
  } else if (data->dtype == DType::kFloat32) {
    ctx.kernel_name = "f32_logistic_ref";
  } else {
    return d.Fail("input type %s not supported", DTypeName(data->dtype));
  }
  return true;
}

void EvalLogistic(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const LogisticData*>(op_data);
  if (p.dtype == DType::kInt8)
    ref::s8_logistic(p.size, p.p, e.in<int8_t>(0), e.out<int8_t>(0));
  else
    ref::f32_logistic(p.size, e.in<float>(0), e.out<float>(0));
}

}  // namespace

extern const OpKernel kLogisticKernel{PrepareLogistic, EvalLogistic};

}  // namespace personcls
