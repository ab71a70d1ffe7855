// ADD with broadcasting over up to 4 dimensions.
#include <algorithm>

#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

// Right-aligns `shape` to 4-D and gives each dim the stride it has in `shape`, or 0 where
// the dim is broadcast.
bool BroadcastStrides(const std::vector<int32_t>& shape, const int out[4], int64_t strides[4]) {
  if (shape.size() > 4) return false;
  int dims[4];
  const size_t lead = 4 - shape.size();
  for (size_t d = 0; d < 4; ++d) dims[d] = d < lead ? 1 : shape[d - lead];
  int64_t stride = 1;
  for (int d = 3; d >= 0; --d) {
    if (dims[d] != out[d] && dims[d] != 1) return false;
    strides[d] = dims[d] == 1 ? 0 : stride;
    stride *= dims[d];
  }
  return true;
}

class AddKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 2, 2));
    const TensorDesc& a = *ctx.input(0);
    const TensorDesc& b = *ctx.input(1);
    const TensorDesc& output = ctx.output(0);
    if (output.shape.size() > 4) return Status::Error("rank above 4 not supported");
    const size_t lead = 4 - output.shape.size();
    for (size_t d = 0; d < 4; ++d) g_.out_shape[d] = d < lead ? 1 : output.shape[d - lead];
    if (!BroadcastStrides(a.shape, g_.out_shape, g_.a_strides) || !BroadcastStrides(b.shape, g_.out_shape, g_.b_strides))
      return Status::Error("inputs " + ShapeString(a.shape) + " and " + ShapeString(b.shape) + " do not broadcast to " + ShapeString(output.shape));
    dtype_ = a.dtype;
    PCLS_RETURN_IF_ERROR(ExpectType(b, dtype_, "input 2"));
    PCLS_RETURN_IF_ERROR(ExpectType(output, dtype_, "output"));
    const Activation act = ctx.op->options.activation;
    if (dtype_ == DType::kInt8) {
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(a, "input 1"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(b, "input 2"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
      p_.left_shift = 20;
      p_.input1_offset = -a.quant.zero_point[0];
      p_.input2_offset = -b.quant.zero_point[0];
      p_.output_offset = output.quant.zero_point[0];
      const double twice_max = 2.0 * static_cast<double>(std::max(a.quant.scale[0], b.quant.scale[0]));
      const double real1 = static_cast<double>(a.quant.scale[0]) / twice_max;
      const double real2 = static_cast<double>(b.quant.scale[0]) / twice_max;
      const double real_out = twice_max / (static_cast<double>(1 << p_.left_shift) * static_cast<double>(output.quant.scale[0]));
      if (real_out >= 1.0) return Status::Error("output scale too small relative to input scales");
      // All three multipliers are below 1, so their shifts are <= 0 ("SmallerThanOneExp").
      quant::QuantizeMultiplier(real1, &p_.input1_multiplier, &p_.input1_shift);
      quant::QuantizeMultiplier(real2, &p_.input2_multiplier, &p_.input2_shift);
      quant::QuantizeMultiplier(real_out, &p_.output_multiplier, &p_.output_shift);
      quant::ActivationRangeInt8(act, output.quant.scale[0], output.quant.zero_point[0], &p_.act_min, &p_.act_max);
    } else if (dtype_ == DType::kFloat32) {
      quant::ActivationRangeFloat(act, &clamp_.min, &clamp_.max);
    } else {
      return Status::Error(std::string("input type ") + DTypeName(dtype_) + " not supported");
    }
    return Status::Ok();
  }

  void Eval(const KernelBuffers& b) override {
    if (dtype_ == DType::kInt8)
      ref::s8_add(g_, p_, b.in<int8_t>(0), b.in<int8_t>(1), b.out<int8_t>(0));
    else
      ref::f32_add(g_, clamp_, b.in<float>(0), b.in<float>(1), b.out<float>(0));
  }
  std::string name() const override { return dtype_ == DType::kInt8 ? "s8_add_ref" : "f32_add_ref"; }

 private:
  ref::BroadcastGeometry g_{};
  ref::S8AddParams p_;
  F32Clamp clamp_{0, 0};
  DType dtype_ = DType::kFloat32;
};

}  // namespace

std::unique_ptr<Kernel> MakeAddKernel() { return std::make_unique<AddKernel>(); }

}  // namespace personcls
