#include "nn/rep_unfuse.h"

#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/tensor.h"
#include "ops/batchnorm2d.h"
#include "personcls/rep_fusion.h"

namespace personcls {
namespace {

// Constant tensor t as float: float32 copied; int8 / int32 dequantized with per-tensor or
// per-channel (axis 0) scales.
Expected<std::vector<float>> ConstantAsFloat(const TensorDesc& t, const std::string& name) {
  if (!t.is_constant()) return Status::Error(name + ": tensor " + t.name + " is not constant");
  const int64_t n = t.num_elements();
  std::vector<float> out(static_cast<size_t>(n));
  if (t.dtype == DType::kFloat32) {
    std::memcpy(out.data(), t.data, static_cast<size_t>(n) * sizeof(float));
    return out;
  }
  if ((t.dtype != DType::kInt8 && t.dtype != DType::kInt32) || t.quant.empty() || t.shape.empty())
    return Status::Error(name + ": tensor " + t.name + " is " + DTypeName(t.dtype) + " without usable quantization");
  const size_t channels = t.quant.scale.size();
  const int64_t per_channel = n / t.shape[0];
  if (channels != 1 && (t.quant.axis != 0 || channels != static_cast<size_t>(t.shape[0])))
    return Status::Error(name + ": tensor " + t.name + " is quantized along axis " + std::to_string(t.quant.axis) + ", expected 0");
  for (int64_t i = 0; i < n; ++i) {
    const size_t c = channels == 1 ? 0 : static_cast<size_t>(i / per_channel);
    const int32_t q = t.dtype == DType::kInt8 ? reinterpret_cast<const int8_t*>(t.data)[i] : reinterpret_cast<const int32_t*>(t.data)[i];
    out[static_cast<size_t>(i)] = t.quant.scale[c] * static_cast<float>(q - t.quant.zero_point[c]);
  }
  return out;
}

std::vector<float> OhwiToOihw(const std::vector<float>& w, int out_c, int in_c) {
  std::vector<float> r(w.size());
  for (int o = 0; o < out_c; ++o)
    for (int k = 0; k < 9; ++k)
      for (int i = 0; i < in_c; ++i) r[(static_cast<size_t>(o) * in_c + i) * 9 + k] = w[(static_cast<size_t>(o) * 9 + k) * in_c + i];
  return r;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Expected<PretrainedDeploy> ReadDeployWeights(const ArchConfig& config, const Graph& graph, const std::string& name) {
  PCLS_ASSIGN_OR_RETURN(const ArchSpec spec, DescribeArch(config));
  if (graph.inputs.size() != 1) return Status::Error(name + ": expected one input");
  const TensorDesc& input = graph.tensors[graph.inputs[0]];
  if (input.dtype == DType::kInt8 || input.dtype == DType::kUint8) {
    const int32_t zero = input.dtype == DType::kInt8 ? -128 : 0;
    if (input.quant.scale.size() != 1 || std::fabs(input.quant.scale[0] * 255.0f - 1.0f) > 1e-4f || input.quant.zero_point[0] != zero)
      return Status::Error(name + ": input quantization is not pixel / 255 (scale 1/255, zero point " + std::to_string(zero) + ")");
  }
  std::vector<const ConvSpec*> convs{&spec.stem};
  for (const ConvSpec& b : spec.blocks) convs.push_back(&b);
  PretrainedDeploy out;
  size_t next = 0;
  for (const OpDesc& op : graph.ops) {
    if ((op.type == OpType::kConv2D || op.type == OpType::kFullyConnected) && (op.inputs.size() < 2 || op.inputs[1] < 0))
      return Status::Error(name + ": " + OpTypeName(op.type) + " without weights");
    if (op.type == OpType::kFullyConnected && next == convs.size()) {
      const TensorDesc& w = graph.tensors[op.inputs[1]];
      if (w.shape == std::vector<int32_t>{config.num_classes, spec.feature_channels} && op.inputs.size() > 2 && op.inputs[2] >= 0) {
        PCLS_ASSIGN_OR_RETURN(out.weights.fc_weight, ConstantAsFloat(w, name));
        PCLS_ASSIGN_OR_RETURN(out.weights.fc_bias, ConstantAsFloat(graph.tensors[op.inputs[2]], name));
        out.has_head = true;
      }
      continue;
    }
    if (op.type != OpType::kConv2D) continue;
    if (next == convs.size()) return Status::Error(name + ": more convolutions than " + config.name + " has (" + std::to_string(convs.size()) + ")");
    const ConvSpec& c = *convs[next];
    const std::string where = name + ": convolution " + std::to_string(next) + " (" + c.name + ")";
    const TensorDesc& w = graph.tensors[op.inputs[1]];
    const std::vector<int32_t> want{c.out_c, 3, 3, c.in_c};
    if (w.shape != want) return Status::Error(where + ": filter " + ShapeToString(w.shape) + ", expected " + ShapeToString(want));
    if (op.options.stride_h != c.stride || op.options.stride_w != c.stride)
      return Status::Error(where + ": stride " + std::to_string(op.options.stride_h) + ", expected " + std::to_string(c.stride));
    const Activation act = next == 0 ? Activation::kRelu6 : Activation::kRelu;
    if (op.options.activation != act)
      return Status::Error(where + ": activation " + ActivationName(op.options.activation) + ", expected " + ActivationName(act));
    DeployWeights::Conv conv;
    PCLS_ASSIGN_OR_RETURN(conv.weight, ConstantAsFloat(w, name));
    if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
      PCLS_ASSIGN_OR_RETURN(conv.bias, ConstantAsFloat(graph.tensors[op.inputs[2]], name));
      if (conv.bias.size() != static_cast<size_t>(c.out_c)) return Status::Error(where + ": bias has " + std::to_string(conv.bias.size()) + " values");
    } else {
      conv.bias.assign(c.out_c, 0.0f);
    }
    (next == 0 ? out.weights.stem : out.weights.blocks.emplace_back()) = std::move(conv);
    ++next;
  }
  if (next != convs.size())
    return Status::Error(name + ": " + std::to_string(next) + " convolutions, " + config.name + " has " + std::to_string(convs.size()));
  return out;
}

void InitFromDeploy(Mbv2RepModel& model, const PretrainedDeploy& pretrained, const Tensor& calib) {
  const ArchSpec& spec = model.spec();
  const DeployWeights& w = pretrained.weights;
  assert(calib.shape.size() == 4 && calib.shape[1] == model.config().input_size && w.blocks.size() == spec.blocks.size());
  const int n = calib.shape[0];
  StateDict sd = model.ToStateDict();
  auto set = [&sd](const std::string& key, std::vector<float> v) {
    assert(sd.at(key).size() == v.size());
    sd.at(key) = std::move(v);
  };
  auto fill = [&sd](const std::string& key, float v) { std::fill(sd.at(key).begin(), sd.at(key).end(), v); };

  set("backbone.conv1.conv.weight", OhwiToOihw(w.stem.weight, spec.stem.out_c, spec.stem.in_c));
  for (size_t b = 0; b < spec.blocks.size(); ++b) {
    const std::string p = "backbone." + spec.blocks[b].name;
    set(p + ".conv3x3.conv.weight", OhwiToOihw(w.blocks[b].weight, spec.blocks[b].out_c, spec.blocks[b].in_c));
    set(p + ".conv3x3.conv.bias", w.blocks[b].bias);
    for (const std::string bn : {".dense_norm", ".conv.0.norm", ".conv.1.norm", ".conv.2.norm", ".conv.3.norm", ".conv.4.norm", ".conv.5.norm"}) {
      fill(p + bn + ".weight", 0.0f);
      fill(p + bn + ".bias", 0.0f);
    }
  }
  if (pretrained.has_head) {
    set("head.fc.weight", w.fc_weight);
    set("head.fc.bias", w.fc_bias);
  }

  // One train-mode forward from zero running statistics leaves running_mean = m * mean and
  // running_var = m * unbiased variance of the batch at every BN (m = momentum).
  const double m = ops::kBatchNormMomentum;
  auto calibrate = [&]() {
    for (auto& [key, v] : sd)
      if (EndsWith(key, ".running_mean") || EndsWith(key, ".running_var")) std::fill(v.begin(), v.end(), 0.0f);
    const Status s = model.LoadStateDict(sd);
    assert(s.ok());
    (void)s;
    model.Forward(calib, true);
    return model.ToStateDict();
  };
  // Sets BN `bn` (batch of `rows` values per channel) to gamma = batch std, beta = batch mean
  // + shift, so it passes its input through (plus shift); the same for `identities`.
  auto make_identity = [&](const std::string& bn, int64_t rows, const std::vector<float>& shift, const std::vector<std::string>& identities) {
    const StateDict after = calibrate();
    const std::vector<float>& rm = after.at(bn + ".running_mean");
    const std::vector<float>& rv = after.at(bn + ".running_var");
    std::vector<float> gamma(rm.size()), beta(rm.size());
    for (size_t c = 0; c < rm.size(); ++c) {
      const double var = rv[c] / m * static_cast<double>(rows - 1) / static_cast<double>(rows);  // biased, as BN normalizes
      gamma[c] = static_cast<float>(std::sqrt(var + kBatchNormEps));
      beta[c] = static_cast<float>(rm[c] / m + shift[c]);
    }
    set(bn + ".weight", gamma);
    set(bn + ".bias", beta);
    for (const std::string& id : identities) {
      set(id + ".weight", gamma);
      set(id + ".bias", beta);
    }
  };
  make_identity("backbone.conv1.norm", static_cast<int64_t>(n) * spec.stem.out_hw * spec.stem.out_hw, w.stem.bias, {});
  for (const ConvSpec& b : spec.blocks) {
    const std::string p = "backbone." + b.name;
    std::vector<std::string> identities;
    for (int i = 0; i < 6; ++i) identities.push_back(p + ".norm." + std::to_string(i));
    make_identity(p + ".conv3x3.norm", static_cast<int64_t>(n) * b.out_hw * b.out_hw, std::vector<float>(b.out_c, 0.0f), identities);
  }
  const StateDict after = calibrate();
  for (auto& [key, v] : sd)
    if (EndsWith(key, ".running_mean") || EndsWith(key, ".running_var"))
      for (size_t c = 0; c < v.size(); ++c) v[c] = static_cast<float>(after.at(key)[c] / m);
  const Status s = model.LoadStateDict(sd);
  assert(s.ok());
  (void)s;
}

}  // namespace personcls
