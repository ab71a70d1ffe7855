// PAD: pads a tensor of rank <= 4 with zero (float) or the output zero point (int8).
#include <cstring>

#include "runtime/host/pad_rows.h"
#include "runtime/kernel.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

class PadKernel : public Kernel {
 public:
  Status Prepare(const KernelContext& ctx) override {
    PCLS_RETURN_IF_ERROR(ExpectInputs(ctx, 2, 2));
    const TensorDesc& input = *ctx.input(0);
    const TensorDesc& paddings = *ctx.input(1);
    const TensorDesc& output = ctx.output(0);
    const size_t rank = input.shape.size();
    if (rank < 1 || rank > 4) return Status::Error("input rank must be 1..4, has shape " + ShapeString(input.shape));
    if (!paddings.is_constant()) return Status::Error("paddings must be constant");
    PCLS_RETURN_IF_ERROR(ExpectType(paddings, DType::kInt32, "paddings"));
    if (paddings.shape != std::vector<int32_t>{static_cast<int32_t>(rank), 2})
      return Status::Error("paddings shape " + ShapeString(paddings.shape) + " must be [" + std::to_string(rank) + ",2]");
    PCLS_RETURN_IF_ERROR(ExpectType(output, input.dtype, "output"));
    if (output.shape.size() != rank) return Status::Error("output rank differs from input rank");
    const auto* pads = reinterpret_cast<const int32_t*>(paddings.data);
    const size_t lead = 4 - rank;  // left-extend to 4-D
    for (size_t d = 0; d < 4; ++d) {
      g_.in_shape[d] = d < lead ? 1 : input.shape[d - lead];
      g_.before[d] = d < lead ? 0 : pads[(d - lead) * 2];
      g_.after[d] = d < lead ? 0 : pads[(d - lead) * 2 + 1];
      if (g_.before[d] < 0 || g_.after[d] < 0 || g_.before[d] > 4096 || g_.after[d] > 4096)
        return Status::Error("padding values must be in 0..4096");
      if (d >= lead && output.shape[d - lead] != g_.before[d] + g_.in_shape[d] + g_.after[d])
        return Status::Error("output shape " + ShapeString(output.shape) + " disagrees with paddings");
    }
    element_size_ = static_cast<int>(DTypeSize(input.dtype));
    fast_ = ctx.use_fast;
    dtype_ = input.dtype;
    std::memset(pad_value_, 0, sizeof(pad_value_));
    if (input.dtype == DType::kInt8) {
      PCLS_RETURN_IF_ERROR(ExpectPerTensorQuant(output, "output"));
      if (input.quant.scale != output.quant.scale || input.quant.zero_point != output.quant.zero_point)
        return Status::Error("int8 PAD needs equal input and output quantization");
      const int32_t zp = output.quant.zero_point[0];
      if (zp < -128 || zp > 127) return Status::Error("output zero point out of int8 range");
      pad_value_[0] = static_cast<uint8_t>(static_cast<int8_t>(zp));
    } else if (input.dtype != DType::kFloat32) {
      return Status::Error(std::string("input type ") + DTypeName(input.dtype) + " not supported");
    }
    return Status::Ok();
  }

  void Eval(const KernelBuffers& b) override {
    if (fast_)
      host::pad_rows(g_, element_size_, pad_value_, b.inputs[0], b.outputs[0]);
    else
      ref::pad(g_, element_size_, pad_value_, b.inputs[0], b.outputs[0]);
  }
  std::string name() const override {
    if (fast_) return dtype_ == DType::kInt8 ? "s8_pad_rows" : "f32_pad_rows";
    return dtype_ == DType::kInt8 ? "s8_pad_ref" : "f32_pad_ref";
  }

 private:
  ref::PadGeometry g_{};
  int element_size_ = 1;
  bool fast_ = false;
  DType dtype_ = DType::kFloat32;
  uint8_t pad_value_[8];
};

}  // namespace

std::unique_ptr<Kernel> MakePadKernel() { return std::make_unique<PadKernel>(); }

}  // namespace personcls
