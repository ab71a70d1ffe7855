// CONV_2D: shape checks; arithmetic and dispatch are shared with DEPTHWISE_CONV_2D
// (conv_common).
#include "runtime/conv_common.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

const ConvKernelFunctions kConv2DFunctions{ref::s8_conv2d,
                                           ref::f32_conv2d,
                                           &FastKernelFactory::S8Conv2d,
                                           &FastKernelFactory::F32Conv2d,
                                           SelectMcuS8Conv2d,
                                           "s8_conv2d_ref",
                                           "f32_conv2d_ref"};

bool PrepareConv2D(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 2, 3, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& filter = *ctx.input(1);
  const TensorView& output = ctx.output(0);
  if (!ExpectRank(filter, 4, "filter", d)) return false;
  if (!filter.is_constant()) return d.Fail("filter must be constant");
  ConvOpData* data = ctx.CreateOpData<ConvOpData>(d);
  if (!data) return false;
  data->fns = &kConv2DFunctions;
  ConvGeometry& g = data->g;
  if (!PrepareSpatialGeometry(input, output, filter.dims[1], filter.dims[2], ctx.op.options, g, d, ctx.folded_padding)) return false;
  if (filter.dims[3] != g.in_c)
    return d.Fail("filter %s does not match input channels %d (grouped convolution not supported)", filter.shape_text().c_str(), g.in_c);
  if (filter.dims[0] != g.out_c)
    return d.Fail("filter %s does not match output %s", filter.shape_text().c_str(), output.shape_text().c_str());
  ctx.macs = int64_t{g.batch} * g.out_h * g.out_w * g.out_c * g.k_h * g.k_w * g.in_c;
  return PrepareConvArithmetic(ctx, *data, filter, ctx.input(2), d);
}

}  // namespace

extern const OpKernel kConv2DKernel{PrepareConv2D, EvalConv};

}  // namespace personcls
