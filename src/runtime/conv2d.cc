// CONV_2D: shape checks; arithmetic and dispatch are in ConvLikeKernel (conv_common).
#include "runtime/conv_common.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

const ConvKernelFunctions kConv2DFunctions{ref::s8_conv2d,    ref::f32_conv2d,  MakeFastS8Conv2d,
                                           MakeFastF32Conv2d, "s8_conv2d_ref", "f32_conv2d_ref"};

class Conv2DKernel : public ConvLikeKernel {
 public:
  Conv2DKernel() : ConvLikeKernel(kConv2DFunctions) {}

  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 2, 3));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& filter = *ctx.input(1);
    const TensorDesc& output = ctx.output(0);
    PCLS_RETURN_IF_ERROR(ExpectRank(filter, 4, "filter"));
    if (!filter.is_constant()) return Status::Error("filter must be constant");
    PCLS_RETURN_IF_ERROR(PrepareSpatialGeometry(input, output, filter.shape[1], filter.shape[2], ctx.op->options, g_, ctx.folded_padding));
    if (filter.shape[3] != g_.in_c)
      return Status::Error("filter " + ShapeString(filter.shape) + " does not match input channels " + std::to_string(g_.in_c) +
                           " (grouped convolution not supported)");
    if (filter.shape[0] != g_.out_c) return Status::Error("filter " + ShapeString(filter.shape) + " does not match output " + ShapeString(output.shape));
    macs_ = int64_t{g_.batch} * g_.out_h * g_.out_w * g_.out_c * g_.k_h * g_.k_w * g_.in_c;
    return PrepareArithmetic(ctx, filter, ctx.input(2));
  }
};

}  // namespace

std::unique_ptr<Kernel> MakeConv2DKernel() { return std::make_unique<Conv2DKernel>(); }

}  // namespace personcls
