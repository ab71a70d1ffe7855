// QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).
#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

class QuantizeKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 1, 1));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& output = ctx.output(0);
    if (input.num_elements() != output.num_elements()) return Status::Error("output size differs from input size");
    size_ = input.num_elements();
    PCLS_RETURN_IF_ERROR(ExpectType(output, DType::kInt8, "output"));
    PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
    out_scale_ = output.quant.scale[0];
    out_zp_ = output.quant.zero_point[0];
    from_float_ = input.dtype == DType::kFloat32;
    if (!from_float_) {
      PCLS_RETURN_IF_ERROR(ExpectType(input, DType::kInt8, "input"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(input, "input"));
      in_zp_ = input.quant.zero_point[0];
      const double real = static_cast<double>(input.quant.scale[0]) / static_cast<double>(out_scale_);
      if (!quant::QuantizeModelMultiplier(real, &multiplier_, &shift_))
        return Status::Error("input/output scale ratio " + std::to_string(real) + " out of range");
    }
    return Status::Ok();
  }
  void Eval(const KernelBuffers& b) override {
    if (from_float_)
      ref::f32_to_s8_quantize(size_, out_scale_, out_zp_, b.in<float>(0), b.out<int8_t>(0));
    else
      ref::s8_requantize(size_, in_zp_, out_zp_, multiplier_, shift_, b.in<int8_t>(0), b.out<int8_t>(0));
  }
  std::string name() const override { return from_float_ ? "f32_s8_quantize_ref" : "s8_requantize_ref"; }

 private:
  int64_t size_ = 0;
  bool from_float_ = true;
  float out_scale_ = 1.0f;
  int32_t out_zp_ = 0, in_zp_ = 0, multiplier_ = 0;
  int shift_ = 0;
};

class DequantizeKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 1, 1));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& output = ctx.output(0);
    if (input.num_elements() != output.num_elements()) return Status::Error("output size differs from input size");
    PCLS_RETURN_IF_ERROR(ExpectType(input, DType::kInt8, "input"));
    PCLS_RETURN_IF_ERROR(ExpectType(output, DType::kFloat32, "output"));
    PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(input, "input"));
    size_ = input.num_elements();
    scale_ = input.quant.scale[0];
    zp_ = input.quant.zero_point[0];
    return Status::Ok();
  }
  void Eval(const KernelBuffers& b) override { ref::s8_to_f32_dequantize(size_, scale_, zp_, b.in<int8_t>(0), b.out<float>(0)); }
  std::string name() const override { return "s8_f32_dequantize_ref"; }

 private:
  int64_t size_ = 0;
  double scale_ = 1.0;
  int32_t zp_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> MakeQuantizeKernel() { return std::make_unique<QuantizeKernel>(); }
std::unique_ptr<Kernel> MakeDequantizeKernel() { return std::make_unique<DequantizeKernel>(); }

}  // namespace personcls
