#include "runtime/pad_folding.h"

#include <cstdint>

namespace personcls {
namespace {

constexpr int32_t kMaxFoldedPad = 4096;  // as the PAD kernel accepts

// The spatial padding of PAD op `op` when it qualifies by itself (see the header), else
// false.
bool SpatialPadding(const Graph& g, const OpDesc& op, ExplicitPadding& pad) {
  if (op.type != OpType::kPad || op.inputs.size() != 2 || op.outputs.size() != 1 || op.inputs[0] < 0 || op.inputs[1] < 0)
    return false;
  const TensorDesc& in = g.tensors[op.inputs[0]];
  const TensorDesc& paddings = g.tensors[op.inputs[1]];
  const TensorDesc& out = g.tensors[op.outputs[0]];
  if (in.shape.size() != 4 || out.shape.size() != 4 || in.dtype != out.dtype) return false;
  if (in.dtype != DType::kInt8 && in.dtype != DType::kFloat32) return false;
  if (in.dtype == DType::kInt8 && (out.quant.scale.size() != 1 || in.quant.scale != out.quant.scale ||
                                   in.quant.zero_point != out.quant.zero_point))
    return false;
  if (!paddings.is_constant() || paddings.dtype != DType::kInt32 || paddings.shape != std::vector<int32_t>{4, 2}) return false;
  const auto* p = reinterpret_cast<const int32_t*>(paddings.data);
  for (int i = 0; i < 8; ++i)
    if (p[i] < 0 || p[i] > kMaxFoldedPad) return false;
  if (p[0] || p[1] || p[6] || p[7]) return false;  // batch or channel padding
  for (int d = 0; d < 4; ++d)
    if (out.shape[d] != in.shape[d] + p[2 * d] + p[2 * d + 1]) return false;
  pad = {p[2], p[3], p[4], p[5]};
  return true;
}

class FoldedPadKernel : public Kernel {
 public:
  Status Prepare(const KernelContext&) override { return Status::Ok(); }
  void Eval(const KernelBuffers&) override {}
  std::string name() const override { return "pad_folded"; }
};

}  // namespace

FoldedOps FoldPads(const Graph& g, bool fold) {
  FoldedOps f;
  f.ops = g.ops;
  f.folded.assign(g.ops.size(), 0);
  f.padding.assign(g.ops.size(), std::nullopt);
  if (!fold) return f;
  // Readers of every tensor (an op reading a tensor twice counts twice); graph outputs
  // count as an extra reader.
  std::vector<int> readers(g.tensors.size(), 0), reader(g.tensors.size(), -1);
  for (size_t k = 0; k < g.ops.size(); ++k)
    for (int i : g.ops[k].inputs)
      if (i >= 0 && static_cast<size_t>(i) < g.tensors.size()) {
        ++readers[i];
        reader[i] = static_cast<int>(k);
      }
  for (int o : g.outputs)
    if (o >= 0 && static_cast<size_t>(o) < g.tensors.size()) ++readers[o];
  for (size_t k = 0; k < g.ops.size(); ++k) {
    ExplicitPadding pad;
    if (!SpatialPadding(g, g.ops[k], pad)) continue;
    const int t = g.ops[k].outputs[0];
    if (readers[t] != 1) continue;
    const int j = reader[t];
    OpDesc& conv = f.ops[j];
    if (conv.type != OpType::kConv2D && conv.type != OpType::kDepthwiseConv2D) continue;
    if (conv.options.padding != Padding::kValid || conv.inputs.empty() || conv.inputs[0] != t) continue;
    conv.inputs[0] = g.ops[k].inputs[0];
    f.padding[j] = pad;
    f.ops[k].inputs.clear();
    f.ops[k].outputs.clear();
    f.folded[k] = 1;
  }
  return f;
}

std::unique_ptr<Kernel> MakeFoldedPadKernel() { return std::make_unique<FoldedPadKernel>(); }

}  // namespace personcls
