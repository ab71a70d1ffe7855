// MEAN over constant axes of a tensor of rank <= 4.
#include "runtime/kernel.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

class MeanKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 2, 2));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& axes = *ctx.input(1);
    const TensorDesc& output = ctx.output(0);
    const int rank = static_cast<int>(input.shape.size());
    if (rank < 1 || rank > 4) return Status::Error("input rank must be 1..4, has shape " + ShapeString(input.shape));
    if (!axes.is_constant()) return Status::Error("axes must be constant");
    PCLS_RETURN_IF_ERROR(ExpectType(axes, DType::kInt32, "axes"));
    const int lead = 4 - rank;
    for (int d = 0; d < 4; ++d) {
      g_.shape[d] = d < lead ? 1 : input.shape[d - lead];
      g_.reduce[d] = false;
    }
    const auto* a = reinterpret_cast<const int32_t*>(axes.data);
    for (int64_t i = 0; i < axes.num_elements(); ++i) {
      int axis = a[i] < 0 ? a[i] + rank : a[i];
      if (axis < 0 || axis >= rank) return Status::Error("axis " + std::to_string(a[i]) + " out of range for rank " + std::to_string(rank));
      g_.reduce[axis + lead] = true;
    }
    outputs_ = 1;
    count_ = 1;
    for (int d = 0; d < 4; ++d) (g_.reduce[d] ? count_ : outputs_) *= g_.shape[d];
    if (count_ == 0) return Status::Error("reduces over an empty dimension");
    if (output.num_elements() != outputs_) return Status::Error("output shape " + ShapeString(output.shape) + " disagrees with reduction");
    dtype_ = input.dtype;
    PCLS_RETURN_IF_ERROR(ExpectType(output, dtype_, "output"));
    if (dtype_ == DType::kInt8) {
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(input, "input"));
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
      if (count_ > (int64_t{1} << 23)) return Status::Error("int8 MEAN over more than 2^23 elements");
      const double real = static_cast<double>(input.quant.scale[0]) / static_cast<double>(output.quant.scale[0]);
      if (!quant::QuantizeModelMultiplier(real, &p_.multiplier, &p_.shift))
        return Status::Error("input/output scale ratio " + std::to_string(real) + " out of range");
      p_.input_zp = input.quant.zero_point[0];
      p_.output_zp = output.quant.zero_point[0];
    } else if (dtype_ != DType::kFloat32) {
      return Status::Error(std::string("input type ") + DTypeName(dtype_) + " not supported");
    }
    return Status::Ok();
  }

  void Eval(const KernelBuffers& b) override {
    if (dtype_ == DType::kInt8)
      ref::s8_mean(g_, p_, b.in<int8_t>(0), static_cast<int32_t*>(b.scratch), b.out<int8_t>(0));
    else
      ref::f32_mean(g_, b.in<float>(0), b.out<float>(0));
  }
  size_t scratch_bytes() const override { return dtype_ == DType::kInt8 ? static_cast<size_t>(outputs_) * sizeof(int32_t) : 0; }
  std::string name() const override { return dtype_ == DType::kInt8 ? "s8_mean_ref" : "f32_mean_ref"; }

 private:
  ref::MeanGeometry g_{};
  ref::S8MeanParams p_;
  DType dtype_ = DType::kFloat32;
  int64_t outputs_ = 0, count_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> MakeMeanKernel() { return std::make_unique<MeanKernel>(); }

}  // namespace personcls
