// MEAN over constant axes of a tensor of rank <= 4.
#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct MeanData {
  ref::MeanGeometry g{};
  ref::S8MeanParams p;
  DType dtype = DType::kFloat32;
};

bool PrepareMean(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 2, 2, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& axes = *ctx.input(1);
  const TensorView& output = ctx.output(0);
  const int rank = input.rank;
  if (rank < 1 || rank > 4) return d.Fail("input rank must be 1..4, has shape %s", input.shape_text().c_str());
  if (!axes.is_constant()) return d.Fail("axes must be constant");
  if (!ExpectType(axes, DType::kInt32, "axes", d)) return false;
  auto* data = ctx.CreateOpData<MeanData>(d);
  if (!data) return false;
  ref::MeanGeometry& g = data->g;
  const int lead = 4 - rank;
  for (int i = 0; i < 4; ++i) {
    g.shape[i] = i < lead ? 1 : input.dims[i - lead];
    g.reduce[i] = false;
  }
  const int32_t* a = axes.constant<int32_t>();
  for (int64_t i = 0; i < axes.num_elements(); ++i) {
    const long axis = a[i] < 0 ? a[i] + rank : a[i];
    if (axis < 0 || axis >= rank) return d.Fail("axis %ld out of range for rank %d", static_cast<long>(a[i]), rank);
    g.reduce[axis + lead] = true;
  }
  int64_t outputs = 1, count = 1;
  for (int i = 0; i < 4; ++i) (g.reduce[i] ? count : outputs) *= g.shape[i];
  if (count == 0) return d.Fail("reduces over an empty dimension");
  if (output.num_elements() != outputs) return d.Fail("output shape %s disagrees with reduction", output.shape_text().c_str());
  data->dtype = input.dtype;
  if (!ExpectType(output, data->dtype, "output", d)) return false;
  if (data->dtype == DType::kInt8) {
    if (!ExpectPerTensorQuant(input, "input", d) || !ExpectPerTensorQuant(output, "output", d)) return false;
    if (count > (int64_t{1} << 23)) return d.Fail("int8 MEAN over more than 2^23 elements");
    const double real = static_cast<double>(input.scale()) / static_cast<double>(output.scale());
    if (!quant::QuantizeModelMultiplier(real, &data->p.multiplier, &data->p.shift))
      return d.Fail("input/output scale ratio out of range");
    data->p.input_zp = input.zero_point();
    data->p.output_zp = output.zero_point();
    ctx.scratch_bytes = static_cast<size_t>(outputs) * sizeof(int32_t);
    ctx.kernel_name = "s8_mean_ref";
  } else if (data->dtype == DType::kFloat32) {
    ctx.kernel_name = "f32_mean_ref";
  } else {
    return d.Fail("input type %s not supported", DTypeName(data->dtype));
  }
  return true;
}

void EvalMean(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const MeanData*>(op_data);
  if (p.dtype == DType::kInt8)
    ref::s8_mean(p.g, p.p, e.in<int8_t>(0), static_cast<int32_t*>(e.scratch), e.out<int8_t>(0));
  else
    ref::f32_mean(p.g, e.in<float>(0), e.out<float>(0));
}

}  // namespace

extern const OpKernel kMeanKernel{PrepareMean, EvalMean};

}  // namespace personcls
