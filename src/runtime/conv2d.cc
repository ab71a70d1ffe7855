// CONV_2D: prepare (geometry, requantization, fast-kernel selection) and dispatch.
#include "runtime/conv_common.h"
#include "runtime/fast_kernels.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

class Conv2DKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 2, 3));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& filter = *ctx.input(1);
    const TensorDesc* bias = ctx.input(2);
    const TensorDesc& output = ctx.output(0);
    PCLS_RETURN_IF_ERROR(ExpectRank(filter, 4, "filter"));
    if (!filter.is_constant()) return Status::Error("filter must be constant");
    const OpOptions& o = ctx.op->options;
    PCLS_RETURN_IF_ERROR(PrepareSpatialGeometry(input, output, filter.shape[1], filter.shape[2], o, g_));
    if (filter.shape[3] != g_.in_c)
      return Status::Error("filter " + ShapeString(filter.shape) + " does not match input channels " + std::to_string(g_.in_c) +
                           " (grouped convolution not supported)");
    if (filter.shape[0] != g_.out_c) return Status::Error("filter " + ShapeString(filter.shape) + " does not match output " + ShapeString(output.shape));
    dtype_ = input.dtype;
    macs_ = int64_t{g_.batch} * g_.out_h * g_.out_w * g_.out_c * g_.k_h * g_.k_w * g_.in_c;
    if (dtype_ == DType::kInt8) {
      PCLS_RETURN_IF_ERROR(ExpectType(filter, DType::kInt8, "filter"));
      PCLS_RETURN_IF_ERROR(ExpectType(output, DType::kInt8, "output"));
      PCLS_RETURN_IF_ERROR(CheckBias(bias, g_.out_c, DType::kInt32));
      PCLS_RETURN_IF_ERROR(PrepareS8ConvQuant(input, filter, output, g_.out_c, o.activation, quant_));
      if (ctx.use_fast)
        fast_ = MakeFastS8Conv2d(g_, quant_.requant, reinterpret_cast<const int8_t*>(filter.data),
                                 bias ? reinterpret_cast<const int32_t*>(bias->data) : nullptr);
    } else if (dtype_ == DType::kFloat32) {
      PCLS_RETURN_IF_ERROR(ExpectType(filter, DType::kFloat32, "filter"));
      PCLS_RETURN_IF_ERROR(ExpectType(output, DType::kFloat32, "output"));
      PCLS_RETURN_IF_ERROR(CheckBias(bias, g_.out_c, DType::kFloat32));
      quant::ActivationRangeFloat(o.activation, &clamp_.min, &clamp_.max);
      if (ctx.use_fast)
        fast_ = MakeFastF32Conv2d(g_, clamp_, reinterpret_cast<const float*>(filter.data),
                                  bias ? reinterpret_cast<const float*>(bias->data) : nullptr);
    } else {
      return Status::Error(std::string("input type ") + DTypeName(dtype_) + " not supported");
    }
    return Status::Ok();
  }

  void Eval(const KernelBuffers& b) override {
    if (fast_) return fast_->Run(b.inputs[0], b.outputs[0], b.scratch, b.num_threads);
    const void* bias = b.inputs.size() > 2 ? b.inputs[2] : nullptr;
    if (dtype_ == DType::kInt8)
      ref::s8_conv2d(g_, quant_.requant, b.in<int8_t>(0), b.in<int8_t>(1), static_cast<const int32_t*>(bias), b.out<int8_t>(0));
    else
      ref::f32_conv2d(g_, clamp_, b.in<float>(0), b.in<float>(1), static_cast<const float*>(bias), b.out<float>(0));
  }

  size_t scratch_bytes() const override { return fast_ ? fast_->scratch_bytes() : 0; }
  size_t persistent_bytes() const override {
    return quant_.multiplier.size() * 8 + (fast_ ? fast_->persistent_bytes() : 0);
  }
  int64_t macs() const override { return macs_; }
  std::string name() const override {
    if (fast_) return fast_->name();
    return dtype_ == DType::kInt8 ? "s8_conv2d_ref" : "f32_conv2d_ref";
  }

 private:
  ConvGeometry g_;
  DType dtype_ = DType::kFloat32;
  S8ConvQuant quant_;
  F32Clamp clamp_{0, 0};
  int64_t macs_ = 0;
  std::unique_ptr<FastKernel> fast_;
};

}  // namespace

std::unique_ptr<Kernel> MakeConv2DKernel() { return std::make_unique<Conv2DKernel>(); }

}  // namespace personcls
