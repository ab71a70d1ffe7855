// DEPTHWISE_CONV_2D: shape checks; arithmetic and dispatch are in ConvLikeKernel
// (conv_common).
#include "runtime/conv_common.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

const ConvKernelFunctions kDwConv2DFunctions{ref::s8_dwconv2d,    ref::f32_dwconv2d,  MakeFastS8DwConv2d,
                                             MakeFastF32DwConv2d, "s8_dwconv2d_ref", "f32_dwconv2d_ref"};

class DepthwiseConv2DKernel : public ConvLikeKernel {
 public:
  DepthwiseConv2DKernel() : ConvLikeKernel(kDwConv2DFunctions) {}

  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 2, 3));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& filter = *ctx.input(1);
    const TensorDesc& output = ctx.output(0);
    PCLS_RETURN_IF_ERROR(ExpectRank(filter, 4, "filter"));
    if (!filter.is_constant()) return Status::Error("filter must be constant");
    if (filter.shape[0] != 1) return Status::Error("depthwise filter " + ShapeString(filter.shape) + " must have leading dimension 1");
    const OpOptions& o = ctx.op->options;
    PCLS_RETURN_IF_ERROR(PrepareSpatialGeometry(input, output, filter.shape[1], filter.shape[2], o, g_, ctx.folded_padding));
    if (g_.in_c == 0 || g_.out_c % g_.in_c != 0 || filter.shape[3] != g_.out_c)
      return Status::Error("filter " + ShapeString(filter.shape) + " does not fit input " + ShapeString(input.shape) + " and output " +
                           ShapeString(output.shape));
    g_.depth_multiplier = g_.out_c / g_.in_c;
    if (o.depth_multiplier > 0 && o.depth_multiplier != g_.depth_multiplier)
      return Status::Error("depth_multiplier " + std::to_string(o.depth_multiplier) + " disagrees with shapes");
    macs_ = int64_t{g_.batch} * g_.out_h * g_.out_w * g_.out_c * g_.k_h * g_.k_w;
    return PrepareArithmetic(ctx, filter, ctx.input(2));
  }
};

}  // namespace

std::unique_ptr<Kernel> MakeDepthwiseConv2DKernel() { return std::make_unique<DepthwiseConv2DKernel>(); }

}  // namespace personcls
