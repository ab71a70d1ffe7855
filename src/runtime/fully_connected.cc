// FULLY_CONNECTED: input [..., depth] is read as [batch, depth]; weights [units, depth].
#include "runtime/conv_common.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

class FullyConnectedKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 2, 3));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& weights = *ctx.input(1);
    const TensorDesc* bias = ctx.input(2);
    const TensorDesc& output = ctx.output(0);
    PCLS_RETURN_IF_ERROR(ExpectRank(weights, 2, "weights"));
    if (!weights.is_constant()) return Status::Error("weights must be constant");
    units_ = weights.shape[0];
    depth_ = weights.shape[1];
    if (depth_ <= 0 || input.num_elements() % depth_ != 0)
      return Status::Error("input " + ShapeString(input.shape) + " is not a multiple of weights depth " + std::to_string(depth_));
    batch_ = static_cast<int>(input.num_elements() / depth_);
    if (output.num_elements() != int64_t{batch_} * units_)
      return Status::Error("output " + ShapeString(output.shape) + " should hold " + std::to_string(batch_) + "x" + std::to_string(units_));
    dtype_ = input.dtype;
    const Activation act = ctx.op->options.activation;
    if (dtype_ == DType::kInt8) {
      PCLS_RETURN_IF_ERROR(CheckS8AccumulationDepth(depth_));
      PCLS_RETURN_IF_ERROR(ExpectType(weights, DType::kInt8, "weights"));
      PCLS_RETURN_IF_ERROR(ExpectType(output, DType::kInt8, "output"));
      PCLS_RETURN_IF_ERROR(CheckBias(bias, units_, DType::kInt32));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(input, "input"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(weights, "weights"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
      // TFLite multiplies the two float scales in float before widening to double.
      const double real = static_cast<double>(input.quant.scale[0] * weights.quant.scale[0]) / static_cast<double>(output.quant.scale[0]);
      if (!quant::QuantizeModelMultiplier(real, &multiplier_, &shift_))
        return Status::Error("requantization multiplier " + std::to_string(real) + " out of range");
      q_.input_offset = -input.quant.zero_point[0];
      q_.filter_offset = -weights.quant.zero_point[0];
      q_.output_offset = output.quant.zero_point[0];
      q_.multiplier = &multiplier_;
      q_.shift = &shift_;
      q_.per_tensor = true;
      quant::ActivationRangeInt8(act, output.quant.scale[0], output.quant.zero_point[0], &q_.act_min, &q_.act_max);
    } else if (dtype_ == DType::kFloat32) {
      PCLS_RETURN_IF_ERROR(ExpectType(weights, DType::kFloat32, "weights"));
      PCLS_RETURN_IF_ERROR(ExpectType(output, DType::kFloat32, "output"));
      PCLS_RETURN_IF_ERROR(CheckBias(bias, units_, DType::kFloat32));
      quant::ActivationRangeFloat(act, &clamp_.min, &clamp_.max);
    } else {
      return Status::Error(std::string("input type ") + DTypeName(dtype_) + " not supported");
    }
    return Status::Ok();
  }

  void Eval(const KernelBuffers& b) override {
    const void* bias = b.inputs.size() > 2 ? b.inputs[2] : nullptr;
    if (dtype_ == DType::kInt8)
      ref::s8_fully_connected(batch_, depth_, units_, q_, b.in<int8_t>(0), b.in<int8_t>(1), static_cast<const int32_t*>(bias),
                              b.out<int8_t>(0));
    else
      ref::f32_fully_connected(batch_, depth_, units_, clamp_, b.in<float>(0), b.in<float>(1), static_cast<const float*>(bias),
                               b.out<float>(0));
  }

  int64_t macs() const override { return int64_t{batch_} * depth_ * units_; }
  size_t persistent_bytes() const override { return 8; }
  std::string name() const override { return dtype_ == DType::kInt8 ? "s8_fully_connected_ref" : "f32_fully_connected_ref"; }

 private:
  int batch_ = 0, depth_ = 0, units_ = 0;
  DType dtype_ = DType::kFloat32;
  int32_t multiplier_ = 0;
  int32_t shift_ = 0;
  S8Requant q_;
  F32Clamp clamp_{0, 0};
};

}  // namespace

std::unique_ptr<Kernel> MakeFullyConnectedKernel() { return std::make_unique<FullyConnectedKernel>(); }

}  // namespace personcls
