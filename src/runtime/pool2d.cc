// AVERAGE_POOL_2D and MAX_POOL_2D over NHWC tensors.
#include "runtime/conv_common.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

class Pool2DKernel : public Kernel {
 public:
  explicit Pool2DKernel(bool average) : average_(average) {}

  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 1, 1));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& output = ctx.output(0);
    const OpOptions& o = ctx.op->options;
    PCLS_RETURN_IF_ERROR(PrepareSpatialGeometry(input, output, o.filter_h, o.filter_w, o, g_));
    if (g_.out_c != g_.in_c) return Status::Error("output channels differ from input channels");
    // A window entirely in padding has no average (TFLite fails at run time; we refuse here).
    if (g_.pad_top >= g_.k_h || g_.pad_left >= g_.k_w) return Status::Error("pooling window lies entirely in padding");
    dtype_ = input.dtype;
    PCLS_RETURN_IF_ERROR(ExpectType(output, dtype_, "output"));
    if (dtype_ == DType::kInt8) {
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(input, "input"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
      if (input.quant.scale[0] != output.quant.scale[0] || input.quant.zero_point[0] != output.quant.zero_point[0])
        return Status::Error("int8 pooling needs equal input and output quantization");
      quant::ActivationRangeInt8(o.activation, output.quant.scale[0], output.quant.zero_point[0], &act_min_, &act_max_);
    } else if (dtype_ == DType::kFloat32) {
      quant::ActivationRangeFloat(o.activation, &clamp_.min, &clamp_.max);
    } else {
      return Status::Error(std::string("input type ") + DTypeName(dtype_) + " not supported");
    }
    return Status::Ok();
  }

  void Eval(const KernelBuffers& b) override {
    if (dtype_ == DType::kInt8) {
      if (average_)
        ref::s8_avgpool2d(g_, act_min_, act_max_, b.in<int8_t>(0), b.out<int8_t>(0));
      else
        ref::s8_maxpool2d(g_, act_min_, act_max_, b.in<int8_t>(0), b.out<int8_t>(0));
    } else {
      if (average_)
        ref::f32_avgpool2d(g_, clamp_, b.in<float>(0), b.out<float>(0));
      else
        ref::f32_maxpool2d(g_, clamp_, b.in<float>(0), b.out<float>(0));
    }
  }

  std::string name() const override {
    return std::string(dtype_ == DType::kInt8 ? "s8_" : "f32_") + (average_ ? "avgpool2d_ref" : "maxpool2d_ref");
  }

 private:
  bool average_;
  ConvGeometry g_;
  DType dtype_ = DType::kFloat32;
  int32_t act_min_ = -128, act_max_ = 127;
  F32Clamp clamp_{0, 0};
};

}  // namespace

std::unique_ptr<Kernel> MakeAveragePool2DKernel() { return std::make_unique<Pool2DKernel>(true); }
std::unique_ptr<Kernel> MakeMaxPool2DKernel() { return std::make_unique<Pool2DKernel>(false); }

}  // namespace personcls
