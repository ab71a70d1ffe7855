#include "runtime/kernel.h"

namespace personcls {

// Defined in the per-op files (src/runtime/<op>.cc).
extern const OpKernel kAddKernel;
extern const OpKernel kAveragePool2DKernel;
extern const OpKernel kConv2DKernel;
extern const OpKernel kDepthwiseConv2DKernel;
extern const OpKernel kDequantizeKernel;
extern const OpKernel kFullyConnectedKernel;
extern const OpKernel kLogisticKernel;
extern const OpKernel kMaxPool2DKernel;
extern const OpKernel kMeanKernel;
extern const OpKernel kPadKernel;
extern const OpKernel kQuantizeKernel;
extern const OpKernel kReshapeKernel;
extern const OpKernel kSoftmaxKernel;

const OpKernel& KernelFor(OpType type) {
  switch (type) {
    case OpType::kAdd: return kAddKernel;
    case OpType::kAveragePool2D: return kAveragePool2DKernel;
    case OpType::kConv2D: return kConv2DKernel;
    case OpType::kDepthwiseConv2D: return kDepthwiseConv2DKernel;
    case OpType::kDequantize: return kDequantizeKernel;
    case OpType::kFullyConnected: return kFullyConnectedKernel;
    case OpType::kLogistic: return kLogisticKernel;
    case OpType::kMaxPool2D: return kMaxPool2DKernel;
    case OpType::kMean: return kMeanKernel;
    case OpType::kPad: return kPadKernel;
    case OpType::kQuantize: return kQuantizeKernel;
    case OpType::kReshape: return kReshapeKernel;
    case OpType::kSoftmax: return kSoftmaxKernel;
  }
  return kAddKernel;  // unreachable: every OpType is listed
}

bool ExpectInputs(const PrepareContext& ctx, int min, int max, Diag& d) {
  const int present = ctx.num_inputs;
  if (present < min || present > max) {
    if (min == max) return d.Fail("expects %d inputs, has %d", min, present);
    return d.Fail("expects %d..%d inputs, has %d", min, max, present);
  }
  for (int i = 0; i < min; ++i)
    if (!ctx.input(i)) return d.Fail("required input %d is missing", i);
  if (ctx.num_outputs != 1) return d.Fail("expects 1 output, has %d", ctx.num_outputs);
  return true;
}

bool ExpectType(const TensorView& t, DType type, const char* what, Diag& d) {
  if (t.dtype != type) return d.Fail("%s must be %s, is %s", what, DTypeName(type), DTypeName(t.dtype));
  return true;
}

bool ExpectRank(const TensorView& t, int rank, const char* what, Diag& d) {
  if (t.rank != rank) return d.Fail("%s must have rank %d, has shape %s", what, rank, t.shape_text().c_str());
  return true;
}

bool ExpectPerTensorQuant(const TensorView& t, const char* what, Diag& d) {
  if (t.num_scales != 1) return d.Fail("%s needs per-tensor quantization", what);
  return true;
}

}  // namespace personcls
