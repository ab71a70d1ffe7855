// SOFTMAX over the last dimension.
#include <algorithm>

#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct SoftmaxData {
  int rows = 0, depth = 0;
  float beta = 1.0f;
  DType dtype = DType::kFloat32;
  ref::S8SoftmaxParams p;
};

bool PrepareSoftmax(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 1, 1, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& output = ctx.output(0);
  if (input.rank == 0) return d.Fail("input must have rank >= 1");
  if (!output.SameShape(input))
    return d.Fail("output shape %s differs from input %s", output.shape_text().c_str(), input.shape_text().c_str());
  auto* data = ctx.CreateOpData<SoftmaxData>(d);
  if (!data) return false;
  data->depth = input.dims[input.rank - 1];
  if (data->depth == 0) return d.Fail("empty last dimension");
  data->rows = static_cast<int>(input.num_elements() / data->depth);
  data->beta = ctx.op.options.softmax_beta;
  data->dtype = input.dtype;
  if (!ExpectType(output, data->dtype, "output", d)) return false;
  if (data->dtype == DType::kInt8) {
    if (!ExpectPerTensorQuant(input, "input", d) || !ExpectPerTensorQuant(output, "output", d)) return false;
    if (output.scale() != 1.0f / 256 || output.zero_point() != -128)
      return d.Fail("int8 output must have scale 1/256 and zero point -128");
    // exp(beta * scale * diff) with diff rescaled into Q5.26 (5 integer bits).
    constexpr int kScaledDiffIntegerBits = 5;
    const double real = std::min(static_cast<double>(data->beta) * static_cast<double>(input.scale()) *
                                     static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)),
                                 static_cast<double>((int64_t{1} << 31) - 1));
    if (real <= 1.0) return d.Fail("input scale too small for int8 softmax");
    int shift = 0;
    quant::QuantizeMultiplier(real, &data->p.input_multiplier, &shift);
    data->p.input_left_shift = shift;
    data->p.diff_min = -quant::CalculateInputRadius(kScaledDiffIntegerBits, shift);
    ctx.kernel_name = "s8_softmax_ref";
  } else if (data->dtype == DType::kFloat32) {
    ctx.kernel_name = "f32_softmax_ref";
  } else {
    return d.Fail("input type %s not supported", DTypeName(data->dtype));
  }
  return true;
}

void EvalSoftmax(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const SoftmaxData*>(op_data);
  if (p.dtype == DType::kInt8)
    ref::s8_softmax(p.rows, p.depth, p.p, e.in<int8_t>(0), e.out<int8_t>(0));
  else
    ref::f32_softmax(p.rows, p.depth, p.beta, e.in<float>(0), e.out<float>(0));
}

}  // namespace

extern const OpKernel kSoftmaxKernel{PrepareSoftmax, EvalSoftmax};

}  // namespace personcls
