// DEPTHWISE_CONV_2D: shape checks; arithmetic and dispatch are shared with CONV_2D
// (conv_common).
#include "runtime/conv_common.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

const ConvKernelFunctions kDwConv2DFunctions{ref::s8_dwconv2d,
                                             ref::f32_dwconv2d,
                                             &FastKernelFactory::S8DwConv2d,
                                             &FastKernelFactory::F32DwConv2d,
                                             SelectMcuS8DwConv2d,
                                             "s8_dwconv2d_ref",
                                             "f32_dwconv2d_ref"};

bool PrepareDepthwiseConv2D(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 2, 3, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& filter = *ctx.input(1);
  const TensorView& output = ctx.output(0);
  if (!ExpectRank(filter, 4, "filter", d)) return false;
  if (!filter.is_constant()) return d.Fail("filter must be constant");
  if (filter.dims[0] != 1) return d.Fail("depthwise filter %s must have leading dimension 1", filter.shape_text().c_str());
  ConvOpData* data = ctx.CreateOpData<ConvOpData>(d);
  if (!data) return false;
  data->fns = &kDwConv2DFunctions;
  ConvGeometry& g = data->g;
  const OpOptions& o = ctx.op.options;
  if (!PrepareSpatialGeometry(input, output, filter.dims[1], filter.dims[2], o, g, d, ctx.folded_padding)) return false;
  if (g.in_c == 0 || g.out_c % g.in_c != 0 || filter.dims[3] != g.out_c)
    return d.Fail("filter %s does not fit input %s and output %s", filter.shape_text().c_str(), input.shape_text().c_str(),
                  output.shape_text().c_str());
  g.depth_multiplier = g.out_c / g.in_c;
  if (o.depth_multiplier > 0 && o.depth_multiplier != g.depth_multiplier)
    return d.Fail("depth_multiplier %d disagrees with shapes", o.depth_multiplier);
  ctx.macs = int64_t{g.batch} * g.out_h * g.out_w * g.out_c * g.k_h * g.k_w;
  return PrepareConvArithmetic(ctx, *data, filter, ctx.input(2), d);
}

}  // namespace

extern const OpKernel kDepthwiseConv2DKernel{PrepareDepthwiseConv2D, EvalConv};

}  // namespace personcls
