#include "runtime/kernel.h"

namespace personcls {

// Defined in the per-op files (src/runtime/<op>.cc).
std::unique_ptr<Kernel> MakeAddKernel();
std::unique_ptr<Kernel> MakeAveragePool2DKernel();
std::unique_ptr<Kernel> MakeConv2DKernel();
std::unique_ptr<Kernel> MakeDepthwiseConv2DKernel();
std::unique_ptr<Kernel> MakeDequantizeKernel();
std::unique_ptr<Kernel> MakeFullyConnectedKernel();
std::unique_ptr<Kernel> MakeLogisticKernel();
std::unique_ptr<Kernel> MakeMaxPool2DKernel();
std::unique_ptr<Kernel> MakeMeanKernel();
std::unique_ptr<Kernel> MakePadKernel();
std::unique_ptr<Kernel> MakeQuantizeKernel();
std::unique_ptr<Kernel> MakeReshapeKernel();
std::unique_ptr<Kernel> MakeSoftmaxKernel();

std::unique_ptr<Kernel> CreateKernel(OpType type) {
  switch (type) {
    case OpType::kAdd: return MakeAddKernel();
    case OpType::kAveragePool2D: return MakeAveragePool2DKernel();
    case OpType::kConv2D: return MakeConv2DKernel();
    case OpType::kDepthwiseConv2D: return MakeDepthwiseConv2DKernel();
    case OpType::kDequantize: return MakeDequantizeKernel();
    case OpType::kFullyConnected: return MakeFullyConnectedKernel();
    case OpType::kLogistic: return MakeLogisticKernel();
    case OpType::kMaxPool2D: return MakeMaxPool2DKernel();
    case OpType::kMean: return MakeMeanKernel();
    case OpType::kPad: return MakePadKernel();
    case OpType::kQuantize: return MakeQuantizeKernel();
    case OpType::kReshape: return MakeReshapeKernel();
    case OpType::kSoftmax: return MakeSoftmaxKernel();
  }
  return nullptr;
}

std::string ShapeString(const std::vector<int32_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

Status ExpectInputs(const KernelContext& ctx, size_t min, size_t max) {
  size_t present = ctx.inputs.size();
  if (present < min || present > max)
    return Status::Error("expects " + std::to_string(min) + (min == max ? "" : ".." + std::to_string(max)) + " inputs, has " +
                         std::to_string(present));
  for (size_t i = 0; i < min; ++i)
    if (!ctx.inputs[i]) return Status::Error("required input " + std::to_string(i) + " is missing");
  if (ctx.outputs.size() != 1) return Status::Error("expects 1 output, has " + std::to_string(ctx.outputs.size()));
  return Status::Ok();
}

Status ExpectType(const TensorDesc& t, DType type, const char* what) {
  if (t.dtype != type)
    return Status::Error(std::string(what) + " must be " + DTypeName(type) + ", is " + DTypeName(t.dtype));
  return Status::Ok();
}

Status ExpectRank(const TensorDesc& t, size_t rank, const char* what) {
  if (t.shape.size() != rank)
    return Status::Error(std::string(what) + " must have rank " + std::to_string(rank) + ", has shape " + ShapeString(t.shape));
  return Status::Ok();
}

Status ExpectPerTensorQuant(const TensorDesc& t, const char* what) {
  if (t.quant.scale.size() != 1) return Status::Error(std::string(what) + " needs per-tensor quantization");
  return Status::Ok();
}

}  // namespace personcls
