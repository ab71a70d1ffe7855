#include "personcls/arch.h"

#include <cmath>
#include <memory>

namespace personcls {

const std::vector<std::string>& ArchNames() {
  static const std::vector<std::string> names = {"mbv2-rep-0.35", "mbv2-rep-0.5", "mbv2-rep-1.0"};
  return names;
}

Expected<ArchConfig> ArchFromName(const std::string& name) {
  ArchConfig c;
  c.name = name;
  if (name == "mbv2-rep-0.35") c.width = 0.35;
  else if (name == "mbv2-rep-0.5") c.width = 0.5;
  else if (name == "mbv2-rep-1.0") c.width = 1.0;
  else return Status::Error("unknown architecture '" + name + "' (known: mbv2-rep-0.35, mbv2-rep-0.5, mbv2-rep-1.0)");
  return c;
}

int MakeDivisible(double v, int divisor) {
  int n = std::max(divisor, static_cast<int>(v + divisor / 2.0) / divisor * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

Expected<ArchSpec> DescribeArch(const ArchConfig& config) {
  if (config.input_size < 8 || config.input_size > 1024) return Status::Error("input size must be 8..1024");
  if (config.num_classes < 1 || config.num_classes > 100000) return Status::Error("classes must be 1..100000");
  struct Row {
    int c, n, s;
  };
  static const Row kRows[] = {{16, 1, 1}, {24, 2, 2}, {32, 3, 2}, {64, 4, 2}};
  const int layers = config.width <= 0.35 ? 3 : 4;  // SSCMA's out_indices for the presets
  ArchSpec spec;
  // Conv with kernel 3, pad 1: out = (in + 2 - 3) / stride + 1.
  auto out_size = [](int in, int stride) { return (in - 1) / stride + 1; };
  spec.stem = {"conv1", config.gray ? 1 : 3, MakeDivisible(32 * config.width), 2, config.input_size, out_size(config.input_size, 2)};
  int c = spec.stem.out_c, hw = spec.stem.out_hw;
  for (int l = 0; l < layers; ++l) {
    const int out = MakeDivisible(kRows[l].c * config.width) * 2;
    for (int i = 0; i < kRows[l].n; ++i) {
      const int stride = i == 0 ? kRows[l].s : 1;
      ConvSpec b{"layer" + std::to_string(l + 1) + "." + std::to_string(i), c, out, stride, hw, out_size(hw, stride)};
      spec.blocks.push_back(b);
      c = out;
      hw = b.out_hw;
    }
  }
  spec.feature_channels = c;
  return spec;
}

int64_t DeployParamCount(const ArchSpec& spec, int num_classes) {
  auto conv = [](const ConvSpec& s) { return int64_t{9} * s.in_c * s.out_c + s.out_c; };
  int64_t n = conv(spec.stem);
  for (const ConvSpec& b : spec.blocks) n += conv(b);
  return n + int64_t{spec.feature_channels} * num_classes + num_classes;
}

int64_t TrainParamCount(const ArchSpec& spec, int num_classes) {
  // Stem: conv without bias + BN (2C). Block: 3x3 conv with bias + BN (2C), dense BN (2C),
  // six identity BNs (12C), six 1x1 convs with bias (C*C + C) each followed by a BN (2C).
  int64_t n = int64_t{9} * spec.stem.in_c * spec.stem.out_c + 2 * spec.stem.out_c;
  for (const ConvSpec& b : spec.blocks) {
    const int64_t c = b.out_c;
    n += 9 * int64_t{b.in_c} * c + c + 2 * c + 2 * c + 12 * c + 6 * (c * c + c + 2 * c);
  }
  return n + int64_t{spec.feature_channels} * num_classes + num_classes;
}

DeployWeights ZeroDeployWeights(const ArchSpec& spec, int num_classes) {
  auto conv = [](const ConvSpec& s) {
    return DeployWeights::Conv{std::vector<float>(size_t{9} * s.in_c * s.out_c, 0.0f), std::vector<float>(s.out_c, 0.0f)};
  };
  DeployWeights w;
  w.stem = conv(spec.stem);
  for (const ConvSpec& b : spec.blocks) w.blocks.push_back(conv(b));
  w.fc_weight.assign(size_t{1} * spec.feature_channels * num_classes, 0.0f);
  w.fc_bias.assign(num_classes, 0.0f);
  return w;
}

namespace {

class DeployGraphBuilder {
 public:
  explicit DeployGraphBuilder(Graph& g) : g_(g) {}

  int Activation(std::vector<int32_t> shape, const std::string& name) {
    TensorDesc t;
    t.name = name;
    t.dtype = DType::kFloat32;
    t.shape = std::move(shape);
    g_.tensors.push_back(std::move(t));
    return static_cast<int>(g_.tensors.size()) - 1;
  }

  template <typename T>
  int Constant(DType type, std::vector<int32_t> shape, const std::vector<T>& values, const std::string& name) {
    return g_.AddConstant(name, type, std::move(shape), values.data(), values.size() * sizeof(T));
  }

  void Op(OpType type, std::vector<int> inputs, int output, OpOptions options = {}) {
    g_.AddOp(type, std::move(inputs), {output}, options);
  }

  // [PAD +] CONV_2D 3x3 + activation; returns the output tensor.
  int Conv3x3(int input, const ConvSpec& s, const DeployWeights::Conv& w, personcls::Activation act) {
    int x = input;
    OpOptions o;
    o.stride_h = o.stride_w = s.stride;
    o.activation = act;
    if (s.stride == 1) {
      o.padding = Padding::kSame;  // pad 1 on each side for a 3x3 kernel at stride 1
    } else {
      const int pads = Constant<int32_t>(DType::kInt32, {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0}, s.name + ".pad");
      const int padded = Activation({1, s.in_hw + 2, s.in_hw + 2, s.in_c}, s.name + ".padded");
      Op(OpType::kPad, {x, pads}, padded);
      x = padded;
      o.padding = Padding::kValid;
    }
    const int weight = Constant<float>(DType::kFloat32, {s.out_c, 3, 3, s.in_c}, w.weight, s.name + ".weight");
    const int bias = Constant<float>(DType::kFloat32, {s.out_c}, w.bias, s.name + ".bias");
    const int out = Activation({1, s.out_hw, s.out_hw, s.out_c}, s.name + ".out");
    Op(OpType::kConv2D, {x, weight, bias}, out, o);
    return out;
  }

 private:
  Graph& g_;
};

}  // namespace

Expected<Graph> BuildDeployGraph(const ArchConfig& config, const DeployWeights& w, bool sigmoid) {
  PCLS_ASSIGN_OR_RETURN(ArchSpec spec, DescribeArch(config));
  auto conv_ok = [](const ConvSpec& s, const DeployWeights::Conv& c) {
    return c.weight.size() == size_t{9} * s.in_c * s.out_c && c.bias.size() == static_cast<size_t>(s.out_c);
  };
  if (!conv_ok(spec.stem, w.stem) || w.blocks.size() != spec.blocks.size()) return Status::Error("weights do not match " + config.name);
  for (size_t i = 0; i < spec.blocks.size(); ++i)
    if (!conv_ok(spec.blocks[i], w.blocks[i])) return Status::Error("weights of " + spec.blocks[i].name + " do not match " + config.name);
  const int classes = config.num_classes;
  if (sigmoid && classes != 1 && classes != 2) return Status::Error("a sigmoid head needs 1 or 2 classes");
  if (w.fc_weight.size() != size_t{1} * classes * spec.feature_channels || w.fc_bias.size() != static_cast<size_t>(classes))
    return Status::Error("head weights do not match " + config.name);

  Graph g;
  g.description = "personcls " + config.name + " deploy form";
  DeployGraphBuilder b(g);
  const int input = b.Activation({1, config.input_size, config.input_size, spec.stem.in_c}, "input");
  g.inputs = {input};
  int x = b.Conv3x3(input, spec.stem, w.stem, Activation::kRelu6);
  for (size_t i = 0; i < spec.blocks.size(); ++i) x = b.Conv3x3(x, spec.blocks[i], w.blocks[i], Activation::kRelu);
  const int axes = b.Constant<int32_t>(DType::kInt32, {2}, {1, 2}, "gap.axes");
  const int pooled = b.Activation({1, spec.feature_channels}, "gap");
  b.Op(OpType::kMean, {x, axes}, pooled);
  const int fc_w = b.Constant<float>(DType::kFloat32, {classes, spec.feature_channels}, w.fc_weight, "head.fc.weight");
  const int fc_b = b.Constant<float>(DType::kFloat32, {classes}, w.fc_bias, "head.fc.bias");
  const int logits = b.Activation({1, classes}, "logits");
  b.Op(OpType::kFullyConnected, {pooled, fc_w, fc_b}, logits);
  const int probs = b.Activation({1, classes}, "output");
  b.Op(sigmoid ? OpType::kLogistic : OpType::kSoftmax, {logits}, probs);
  g.outputs = {probs};
  return g;
}

}  // namespace personcls
