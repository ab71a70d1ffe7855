#include "explain/float_twin.h"

#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace personcls::explain {
namespace {

bool IsQuantized(const Graph& g) {
  for (const TensorDesc& t : g.tensors)
    if (t.dtype == DType::kInt8 || t.dtype == DType::kUint8 || t.dtype == DType::kInt16) return true;
  for (const OpDesc& op : g.ops)
    if (op.type == OpType::kQuantize || op.type == OpType::kDequantize) return true;
  return false;
}

// Scale and zero point of element `i` of a tensor quantized per tensor or along quant.axis.
struct ElementQuant {
  float scale;
  int32_t zero_point;
};
ElementQuant QuantOf(const TensorDesc& t, int64_t i) {
  if (t.quant.empty()) return {1.0f, 0};
  if (!t.quant.per_channel()) return {t.quant.scale[0], t.quant.zero_point[0]};
  int64_t inner = 1;
  for (size_t d = t.quant.axis + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int64_t c = (i / inner) % t.shape[t.quant.axis];
  return {t.quant.scale[c], t.quant.zero_point[c]};
}

// Holds new float data in the twin's storage; returns a pointer to it.
const uint8_t* NewFloatData(Graph& twin, std::vector<float> values) {
  auto owner = std::make_shared<std::vector<float>>(std::move(values));
  twin.storage.push_back(owner);
  return reinterpret_cast<const uint8_t*>(owner->data());
}

}  // namespace

Expected<FloatTwin> MakeFloatTwin(std::shared_ptr<const Graph> graph) {
  const Graph& g = *graph;
  if (!IsQuantized(g)) return FloatTwin{graph, std::nullopt};
  for (int idx : g.inputs)
    if (g.tensors[idx].quant.per_channel()) return Status::Error("float twin: input tensor '" + g.tensors[idx].name + "' is quantized per channel");
  Graph twin;
  twin.tensors = g.tensors;
  twin.description = g.description;
  twin.metadata = g.metadata;
  twin.storage = g.storage;  // int32 shape operands still point into the original's buffers

  // int32 biases dequantize with input scale x filter scale (per output channel), as the
  // int8 kernels use them; a bias tensor carries no scale of its own that we could trust.
  std::map<int, std::vector<float>> bias_scales;
  for (const OpDesc& op : g.ops) {
    if (op.type != OpType::kConv2D && op.type != OpType::kDepthwiseConv2D && op.type != OpType::kFullyConnected) continue;
    if (op.inputs.size() < 3 || op.inputs[2] < 0) continue;
    const TensorDesc& bias = g.tensors[op.inputs[2]];
    if (bias.dtype != DType::kInt32) continue;
    const TensorDesc& in = g.tensors[op.inputs[0]];
    const TensorDesc& filter = g.tensors[op.inputs[1]];
    if (in.quant.empty() || filter.quant.empty()) return Status::Error("float twin: int32 bias '" + bias.name + "' without input/filter scales");
    std::vector<float> scales(bias.num_elements());
    for (size_t c = 0; c < scales.size(); ++c)
      scales[c] = in.quant.scale[0] * filter.quant.scale[filter.quant.per_channel() ? c % filter.quant.scale.size() : 0];
    bias_scales[op.inputs[2]] = std::move(scales);
  }

  for (size_t i = 0; i < twin.tensors.size(); ++i) {
    TensorDesc& t = twin.tensors[i];
    const TensorDesc& src = g.tensors[i];
    if (auto it = bias_scales.find(static_cast<int>(i)); it != bias_scales.end()) {
      std::vector<float> v(src.num_elements());
      const auto* q = reinterpret_cast<const int32_t*>(src.data);
      for (size_t c = 0; c < v.size(); ++c) v[c] = static_cast<float>(static_cast<double>(q[c]) * it->second[c]);
      t.data = NewFloatData(twin, std::move(v));
    } else if (src.dtype == DType::kInt8) {
      if (src.is_constant()) {
        std::vector<float> v(src.num_elements());
        const auto* q = reinterpret_cast<const int8_t*>(src.data);
        for (size_t e = 0; e < v.size(); ++e) {
          const ElementQuant eq = QuantOf(src, static_cast<int64_t>(e));
          v[e] = eq.scale * static_cast<float>(static_cast<int32_t>(q[e]) - eq.zero_point);
        }
        t.data = NewFloatData(twin, std::move(v));
      }
    } else if (src.dtype == DType::kInt32 || src.dtype == DType::kInt64 || src.dtype == DType::kFloat32) {
      if (src.dtype != DType::kFloat32 && !src.is_constant())
        return Status::Error("float twin: integer activation tensor '" + src.name + "' (" + DTypeName(src.dtype) + ")");
      continue;  // float tensors and integer shape operands stay as they are
    } else {
      return Status::Error(std::string("float twin: tensor '") + src.name + "' has type " + DTypeName(src.dtype));
    }
    t.dtype = DType::kFloat32;
    t.quant = QuantParams{};
  }

  // QUANTIZE/DEQUANTIZE become identities: their output is renamed to their input.
  std::vector<int> alias(twin.tensors.size());
  for (size_t i = 0; i < alias.size(); ++i) alias[i] = static_cast<int>(i);
  auto resolve = [&](int t) { return t < 0 ? t : alias[t]; };
  for (const OpDesc& op : g.ops) {
    if (op.type == OpType::kQuantize || op.type == OpType::kDequantize) {
      alias[op.outputs[0]] = resolve(op.inputs[0]);
      continue;
    }
    OpDesc copy = op;
    for (int& t : copy.inputs) t = resolve(t);
    twin.ops.push_back(std::move(copy));
  }
  for (int t : g.inputs) twin.inputs.push_back(resolve(t));
  for (int t : g.outputs) twin.outputs.push_back(resolve(t));

  FloatTwin result;
  const TensorDesc& in = g.tensors[g.inputs.empty() ? 0 : g.inputs[0]];
  if (!g.inputs.empty() && in.dtype == DType::kInt8) {
    // The int8 input was fed q = p - 128; its real value is s (q - z) = s (p - (128 + z)).
    const float scale = in.quant.empty() ? 1.0f : in.quant.scale[0];
    const int32_t zp = in.quant.empty() ? 0 : in.quant.zero_point[0];
    result.input_normalization = InputNormalization{static_cast<float>(128 + zp), scale};
  }
  result.graph = std::make_shared<const Graph>(std::move(twin));
  return result;
}

}  // namespace personcls::explain
