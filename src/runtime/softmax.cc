// SOFTMAX over the last dimension.
#include <algorithm>

#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

class SoftmaxKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 1, 1));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& output = ctx.output(0);
    if (input.shape.empty()) return Status::Error("input must have rank >= 1");
    if (output.shape != input.shape) return Status::Error("output shape " + ShapeString(output.shape) + " differs from input " + ShapeString(input.shape));
    depth_ = input.shape.back();
    if (depth_ == 0) return Status::Error("empty last dimension");
    rows_ = static_cast<int>(input.num_elements() / depth_);
    beta_ = ctx.op->options.softmax_beta;
    dtype_ = input.dtype;
    PCLS_RETURN_IF_ERROR(ExpectType(output, dtype_, "output"));
    if (dtype_ == DType::kInt8) {
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(input, "input"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
      if (output.quant.scale[0] != 1.0f / 256 || output.quant.zero_point[0] != -128)
        return Status::Error("int8 output must have scale 1/256 and zero point -128");
      // exp(beta * scale * diff) with diff rescaled into Q5.26 (5 integer bits).
      constexpr int kScaledDiffIntegerBits = 5;
      const double real = std::min(static_cast<double>(beta_) * static_cast<double>(input.quant.scale[0]) *
                                       static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)),
                                   static_cast<double>((int64_t{1} << 31) - 1));
      if (real <= 1.0) return Status::Error("input scale too small for int8 softmax");
      int shift = 0;
      quant::QuantizeMultiplier(real, &p_.input_multiplier, &shift);
      p_.input_left_shift = shift;
      p_.diff_min = -quant::CalculateInputRadius(kScaledDiffIntegerBits, shift);
    } else if (dtype_ != DType::kFloat32) {
      return Status::Error(std::string("input type ") + DTypeName(dtype_) + " not supported");
    }
    return Status::Ok();
  }

  void Eval(const KernelBuffers& b) override {
    if (dtype_ == DType::kInt8)
      ref::s8_softmax(rows_, depth_, p_, b.in<int8_t>(0), b.out<int8_t>(0));
    else
      ref::f32_softmax(rows_, depth_, beta_, b.in<float>(0), b.out<float>(0));
  }
  std::string name() const override { return dtype_ == DType::kInt8 ? "s8_softmax_ref" : "f32_softmax_ref"; }

 private:
  int rows_ = 0, depth_ = 0;
  float beta_ = 1.0f;
  DType dtype_ = DType::kFloat32;
  ref::S8SoftmaxParams p_;
};

}  // namespace

std::unique_ptr<Kernel> MakeSoftmaxKernel() { return std::make_unique<SoftmaxKernel>(); }

}  // namespace personcls
