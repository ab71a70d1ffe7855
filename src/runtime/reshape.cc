// RESHAPE: the bytes do not change; the output gets a copy (tensors do not alias, which
// keeps the arena planner simple).
#include <cstring>

#include "runtime/kernel.h"

namespace personcls {
namespace {

struct ReshapeData {
  size_t bytes = 0;
};

bool PrepareReshape(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 1, 2, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& output = ctx.output(0);
  if (input.num_elements() != output.num_elements())
    return d.Fail("cannot reshape %s to %s", input.shape_text().c_str(), output.shape_text().c_str());
  if (!ExpectType(output, input.dtype, "output", d)) return false;
  if (input.dtype == DType::kInt8 && !input.SameQuantization(output))
    return d.Fail("int8 RESHAPE needs equal input and output quantization");
  auto* data = ctx.CreateOpData<ReshapeData>(d);
  if (!data) return false;
  data->bytes = static_cast<size_t>(input.num_bytes());
  ctx.kernel_name = "reshape_copy";
  return true;
}

void EvalReshape(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const ReshapeData*>(op_data);
  if (e.outputs[0] != e.inputs[0]) std::memcpy(e.outputs[0], e.inputs[0], p.bytes);
}

}  // namespace

extern const OpKernel kReshapeKernel{PrepareReshape, EvalReshape};

}  // namespace personcls
