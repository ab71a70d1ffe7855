// AVERAGE_POOL_2D and MAX_POOL_2D over NHWC tensors.
#include "runtime/conv_common.h"
#include "runtime/fast_kernels.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct Pool2DData {
  bool average = false;
  ConvGeometry g;
  DType dtype = DType::kFloat32;
  int32_t act_min = -128, act_max = 127;
  F32Clamp clamp{0, 0};
  McuS8Pool mcu;               // MCU kernel, used when mcu.run is set
  FastKernel* fast = nullptr;  // host SIMD kernel (owned by the fast-kernel factory), when set
};

bool PreparePool2D(PrepareContext& ctx, bool average, Diag& d) {
  if (!ExpectInputs(ctx, 1, 1, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& output = ctx.output(0);
  const OpOptions& o = ctx.op.options;
  auto* p = ctx.CreateOpData<Pool2DData>(d);
  if (!p) return false;
  p->average = average;
  ConvGeometry& g = p->g;
  if (!PrepareSpatialGeometry(input, output, o.filter_h, o.filter_w, o, g, d)) return false;
  if (g.out_c != g.in_c) return d.Fail("output channels differ from input channels");
  // A window entirely in padding has no average (TFLite fails at run time; we refuse here).
  if (g.pad_top >= g.k_h || g.pad_left >= g.k_w) return d.Fail("pooling window lies entirely in padding");
  p->dtype = input.dtype;
  if (!ExpectType(output, p->dtype, "output", d)) return false;
  if (p->dtype == DType::kInt8) {
    if (!ExpectPerTensorQuant(input, "input", d) || !ExpectPerTensorQuant(output, "output", d)) return false;
    if (input.scale() != output.scale() || input.zero_point() != output.zero_point())
      return d.Fail("int8 pooling needs equal input and output quantization");
    quant::ActivationRangeInt8(o.activation, output.scale(), output.zero_point(), &p->act_min, &p->act_max);
    ctx.kernel_name = average ? "s8_avgpool2d_ref" : "s8_maxpool2d_ref";
    if (ctx.use_fast && (average ? SelectMcuS8AvgPool2d(g, &p->mcu) : SelectMcuS8MaxPool2d(g, &p->mcu))) ctx.kernel_name = p->mcu.name;
  } else if (p->dtype == DType::kFloat32) {
    quant::ActivationRangeFloat(o.activation, &p->clamp.min, &p->clamp.max);
    ctx.kernel_name = average ? "f32_avgpool2d_ref" : "f32_maxpool2d_ref";
  } else {
    return d.Fail("input type %s not supported", DTypeName(p->dtype));
  }
  // The PC's AVX2 average pool, where the host supplies one (no MCU kernel was chosen).
  if (ctx.use_fast && average && ctx.fast_factory && !p->mcu.run) {
    const FastKernelChoice c = p->dtype == DType::kInt8 ? ctx.fast_factory->S8AvgPool2d(g, p->act_min, p->act_max)
                                                        : ctx.fast_factory->F32AvgPool2d(g, p->clamp);
    if (c.kernel) {
      p->fast = c.kernel;
      ctx.kernel_name = c.name;
    }
  }
  return true;
}

bool PrepareAveragePool2D(PrepareContext& ctx, Diag& d) { return PreparePool2D(ctx, true, d); }
bool PrepareMaxPool2D(PrepareContext& ctx, Diag& d) { return PreparePool2D(ctx, false, d); }

void EvalPool2D(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const Pool2DData*>(op_data);
  if (p.fast) return p.fast->Run(e.inputs[0], e.outputs[0], e.scratch, e.num_threads);
  if (p.dtype == DType::kInt8) {
    if (p.mcu.run)
      p.mcu.run(p.g, p.act_min, p.act_max, e.in<int8_t>(0), e.out<int8_t>(0));
    else if (p.average)
      ref::s8_avgpool2d(p.g, p.act_min, p.act_max, e.in<int8_t>(0), e.out<int8_t>(0));
    else
      ref::s8_maxpool2d(p.g, p.act_min, p.act_max, e.in<int8_t>(0), e.out<int8_t>(0));
  } else {
    if (p.average)
      ref::f32_avgpool2d(p.g, p.clamp, e.in<float>(0), e.out<float>(0));
    else
      ref::f32_maxpool2d(p.g, p.clamp, e.in<float>(0), e.out<float>(0));
  }
}

}  // namespace

extern const OpKernel kAveragePool2DKernel{PrepareAveragePool2D, EvalPool2D};
extern const OpKernel kMaxPool2DKernel{PrepareMaxPool2D, EvalPool2D};

}  // namespace personcls
