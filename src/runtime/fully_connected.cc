// FULLY_CONNECTED: input [..., depth] is read as [batch, depth]; weights [units, depth].
#include "runtime/conv_common.h"
#include "runtime/mcu_kernels.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct FullyConnectedData {
  int batch = 0, depth = 0, units = 0;
  DType dtype = DType::kFloat32;
  int32_t multiplier = 0;
  int32_t shift = 0;
  S8Requant q;  // points at multiplier/shift above
  F32Clamp clamp{0, 0};
  McuS8FullyConnected mcu;
};

bool PrepareFullyConnected(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 2, 3, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& weights = *ctx.input(1);
  const TensorView* bias = ctx.input(2);
  const TensorView& output = ctx.output(0);
  if (!ExpectRank(weights, 2, "weights", d)) return false;
  if (!weights.is_constant()) return d.Fail("weights must be constant");
  auto* p = ctx.CreateOpData<FullyConnectedData>(d);
  if (!p) return false;
  p->units = weights.dims[0];
  p->depth = weights.dims[1];
  if (p->depth <= 0 || input.num_elements() % p->depth != 0)
    return d.Fail("input %s is not a multiple of weights depth %d", input.shape_text().c_str(), p->depth);
  p->batch = static_cast<int>(input.num_elements() / p->depth);
  if (output.num_elements() != int64_t{p->batch} * p->units)
    return d.Fail("output %s should hold %dx%d", output.shape_text().c_str(), p->batch, p->units);
  ctx.macs = int64_t{p->batch} * p->depth * p->units;
  p->dtype = input.dtype;
  const Activation act = ctx.op.options.activation;
  if (p->dtype == DType::kInt8) {
    if (!CheckS8AccumulationDepth(p->depth, d) || !ExpectType(weights, DType::kInt8, "weights", d) ||
        !ExpectType(output, DType::kInt8, "output", d) || !CheckBias(bias, p->units, DType::kInt32, d) ||
        !ExpectPerTensorQuant(input, "input", d) || !ExpectPerTensorQuant(weights, "weights", d) ||
        !ExpectPerTensorQuant(output, "output", d))
      return false;
    // TFLite multiplies the two float scales in float before widening to double.
    const double real = static_cast<double>(input.scale() * weights.scale()) / static_cast<double>(output.scale());
    int shift = 0;
    if (!quant::QuantizeModelMultiplier(real, &p->multiplier, &shift)) return d.Fail("requantization multiplier out of range");
    p->shift = shift;
    S8Requant& q = p->q;
    q.input_offset = -input.zero_point();
    q.filter_offset = -weights.zero_point();
    q.output_offset = output.zero_point();
    q.multiplier = &p->multiplier;
    q.shift = &p->shift;
    q.per_tensor = true;
    quant::ActivationRangeInt8(act, output.scale(), output.zero_point(), &q.act_min, &q.act_max);
    ctx.kernel_name = "s8_fully_connected_ref";
    if (ctx.use_fast && SelectMcuS8FullyConnected(p->batch, p->depth, p->units, q, weights.constant<int8_t>(),
                                                  bias ? bias->constant<int32_t>() : nullptr, *ctx.allocator, &p->mcu))
      ctx.kernel_name = p->mcu.name;
  } else if (p->dtype == DType::kFloat32) {
    if (!ExpectType(weights, DType::kFloat32, "weights", d) || !ExpectType(output, DType::kFloat32, "output", d) ||
        !CheckBias(bias, p->units, DType::kFloat32, d))
      return false;
    quant::ActivationRangeFloat(act, &p->clamp.min, &p->clamp.max);
    ctx.kernel_name = "f32_fully_connected_ref";
  } else {
    return d.Fail("input type %s not supported", DTypeName(p->dtype));
  }
  return true;
}

void EvalFullyConnected(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const FullyConnectedData*>(op_data);
  const void* bias = e.inputs[2];
  if (p.dtype == DType::kInt8) {
    if (p.mcu.run)
      return p.mcu.run(p.batch, p.depth, p.units, p.q, e.in<int8_t>(0), e.in<int8_t>(1), static_cast<const int32_t*>(bias),
                       e.out<int8_t>(0), p.mcu.extra);
    ref::s8_fully_connected(p.batch, p.depth, p.units, p.q, e.in<int8_t>(0), e.in<int8_t>(1), static_cast<const int32_t*>(bias),
                            e.out<int8_t>(0));
  } else {
    ref::f32_fully_connected(p.batch, p.depth, p.units, p.clamp, e.in<float>(0), e.in<float>(1), static_cast<const float*>(bias),
                             e.out<float>(0));
  }
}

}  // namespace

extern const OpKernel kFullyConnectedKernel{PrepareFullyConnected, EvalFullyConnected};

}  // namespace personcls
