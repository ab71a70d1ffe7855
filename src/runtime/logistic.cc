// LOGISTIC (sigmoid), elementwise.
#include <cmath>

#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

class LogisticKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 1, 1));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& output = ctx.output(0);
    if (output.shape != input.shape) return Status::Error("output shape differs from input shape");
    size_ = input.num_elements();
    dtype_ = input.dtype;
    PCLS_RETURN_IF_ERROR(ExpectType(output, dtype_, "output"));
    if (dtype_ == DType::kInt8) {
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(input, "input"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
      if (output.quant.scale[0] != 1.0f / 256 || output.quant.zero_point[0] != -128)
        return Status::Error("int8 output must have scale 1/256 and zero point -128");
      // Input rescaled into Q4.27: multiplier = scale * 2^27 split as frexp gives it.
      constexpr int kInputIntegerBits = 4;
      const double real = static_cast<double>(input.quant.scale[0]) * static_cast<double>(int64_t{1} << (31 - kInputIntegerBits));
      int left_shift = 0;
      const double q = std::frexp(real, &left_shift);
      const int64_t m = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
      if (m >= (int64_t{1} << 31) || left_shift < 0 || left_shift > 30) return Status::Error("input scale out of range for int8 logistic");
      p_.input_multiplier = static_cast<int32_t>(m);
      p_.input_left_shift = left_shift;
      p_.input_zero_point = input.quant.zero_point[0];
      p_.input_range_radius = quant::CalculateInputRadius(kInputIntegerBits, left_shift, 31);
    } else if (dtype_ != DType::kFloat32) {
      return Status::Error(std::string("input type ") + DTypeName(dtype_) + " not supported");
    }
    return Status::Ok();
  }

  void Eval(const KernelBuffers& b) override {
    if (dtype_ == DType::kInt8)
      ref::s8_logistic(size_, p_, b.in<int8_t>(0), b.out<int8_t>(0));
    else
      ref::f32_logistic(size_, b.in<float>(0), b.out<float>(0));
  }
  std::string name() const override { return dtype_ == DType::kInt8 ? "s8_logistic_ref" : "f32_logistic_ref"; }

 private:
  int64_t size_ = 0;
  DType dtype_ = DType::kFloat32;
  ref::S8LogisticParams p_;
};

}  // namespace

std::unique_ptr<Kernel> MakeLogisticKernel() { return std::make_unique<LogisticKernel>(); }

}  // namespace personcls
