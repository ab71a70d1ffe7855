// RESHAPE: the bytes do not change; the output gets a copy (tensors do not alias, which
// keeps the arena planner simple).
#include <cstring>

#include "runtime/kernel.h"

namespace personcls {
namespace {

class ReshapeKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 1, 2));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& output = ctx.output(0);
    if (input.num_elements() != output.num_elements())
      return Status::Error("cannot reshape " + ShapeString(input.shape) + " to " + ShapeString(output.shape));
    PCLS_RETURN_IF_ERROR(ExpectType(output, input.dtype, "output"));
    if (input.dtype == DType::kInt8 && (input.quant.scale != output.quant.scale || input.quant.zero_point != output.quant.zero_point))
      return Status::Error("int8 RESHAPE needs equal input and output quantization");
    bytes_ = static_cast<size_t>(input.num_bytes());
    return Status::Ok();
  }
  void Eval(const KernelBuffers& b) override {
    if (b.outputs[0] != b.inputs[0]) std::memcpy(b.outputs[0], b.inputs[0], bytes_);
  }
  std::string name() const override { return "reshape_copy"; }

 private:
  size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> MakeReshapeKernel() { return std::make_unique<ReshapeKernel>(); }

}  // namespace personcls
