// Every op's reference kernel against an independent double-precision oracle, in the style
// of ggml's test-backend-ops: ONE table of op cases (MakeOpCases() below), each built as a
// one-op Graph, run through the Interpreter with KernelSet::kReference, and compared with
// an oracle written here from the op's mathematical definition:
//   * float32 outputs: |got - want| <= 1e-5 * |want| + 1e-6 * magnitude + 1e-7, where
//     magnitude is the sum of |terms| that float accumulation rounds (conditioning);
//   * int8 outputs: the oracle dequantizes every input, computes in double, applies the
//     fused activation in the real domain and requantizes: want = clamp(round(real / scale)
//     + zero_point); |got - want| <= 1 (TFLite's integer pipelines round twice).
// Shapes are odd/prime (1,3,5,7,11,13 spatial; 1,3,5,17 channels); weights, biases,
// quantization parameters and inputs are random per trial (seed from TestSeed(), printed
// on failure). Exact hand-computed cases for a few ops follow the table.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "graph_builder.h"
#include "personcls/interpreter.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::GraphBuilder;

// ---- the case table -----------------------------------------------------------------

struct OpCase {
  OpType op = OpType::kAdd;
  DType dtype = DType::kFloat32;  // activation type (QUANTIZE: its input type)
  std::vector<int32_t> in;        // input shape
  // CONV_2D, DEPTHWISE_CONV_2D, pools
  int kh = 1, kw = 1;
  int out_c = 0;  // CONV_2D output channels; FULLY_CONNECTED units
  int depth_multiplier = 1;
  int stride = 1;
  int dilation = 1;
  Padding padding = Padding::kValid;
  Activation act = Activation::kNone;
  bool bias = true;
  bool per_channel = true;      // int8 conv filters: one scale per output channel
  int32_t weights_zp = 0;       // int8 FULLY_CONNECTED weights zero point
  std::vector<int32_t> in2;     // ADD: second input shape
  std::vector<int32_t> axes;    // MEAN
  bool keep_dims = false;       // MEAN
  bool same_quant = false;      // MEAN: output quantization equal to the input's
  std::vector<int32_t> pads;    // PAD: [rank * 2]
  std::vector<int32_t> new_shape;  // RESHAPE
  bool shape_operand = true;    // RESHAPE: pass the new shape as a second input
  float beta = 1.0f;            // SOFTMAX
  double out_scale_factor = 1.0;  // int8 outputs chosen from the oracle's range, times this
  int trials = 5;
};

std::string ShapeName(const std::vector<int32_t>& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += 'x';
    r += std::to_string(s[i]);
  }
  return r.empty() ? "scalar" : r;
}

std::string CaseName(const OpCase& c) {
  std::string n = OpTypeName(c.op);
  n += c.dtype == DType::kInt8 ? "_s8_" : "_f32_";
  n += ShapeName(c.in);
  switch (c.op) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
    case OpType::kAveragePool2D:
    case OpType::kMaxPool2D:
      n += "_k" + std::to_string(c.kh) + "x" + std::to_string(c.kw);
      if (c.op == OpType::kConv2D) n += "_o" + std::to_string(c.out_c);
      if (c.op == OpType::kDepthwiseConv2D) n += "_m" + std::to_string(c.depth_multiplier);
      n += "_s" + std::to_string(c.stride);
      if (c.dilation != 1) n += "_d" + std::to_string(c.dilation);
      n += c.padding == Padding::kSame ? "_SAME" : "_VALID";
      break;
    case OpType::kFullyConnected:
      n += "_u" + std::to_string(c.out_c);
      if (c.weights_zp) n += "_wzp";
      break;
    case OpType::kAdd: n += "_plus_" + ShapeName(c.in2); break;
    case OpType::kMean:
      n += "_axes";
      for (int a : c.axes) n += a < 0 ? "m" + std::to_string(-a) : std::to_string(a);
      n += c.keep_dims ? "_keep" : "_drop";
      if (c.same_quant) n += "_samequant";
      break;
    case OpType::kPad:
      n += "_p";
      for (int p : c.pads) n += std::to_string(p);
      break;
    case OpType::kReshape: n += "_to_" + ShapeName(c.new_shape) + (c.shape_operand ? "_operand" : "_nooperand"); break;
    case OpType::kSoftmax:
      if (c.beta != 1.0f) n += "_beta" + std::to_string(static_cast<int>(c.beta * 100));
      break;
    case OpType::kQuantize:
      if (c.out_scale_factor != 1.0) n += "_f" + std::to_string(static_cast<int>(c.out_scale_factor * 100));
      break;
    default: break;
  }
  if (c.op == OpType::kConv2D || c.op == OpType::kDepthwiseConv2D || c.op == OpType::kFullyConnected || c.op == OpType::kAdd ||
      c.op == OpType::kAveragePool2D || c.op == OpType::kMaxPool2D)
    n += std::string("_") + ActivationName(c.act);
  if ((c.op == OpType::kConv2D || c.op == OpType::kDepthwiseConv2D || c.op == OpType::kFullyConnected) && !c.bias) n += "_nobias";
  if ((c.op == OpType::kConv2D || c.op == OpType::kDepthwiseConv2D) && c.dtype == DType::kInt8 && !c.per_channel) n += "_pertensor";
  return n;
}

std::vector<OpCase> MakeOpCases() {
  std::vector<OpCase> cases;
  const DType kTypes[] = {DType::kInt8, DType::kFloat32};
  const Activation kActs[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6};
  const Padding kPads[] = {Padding::kSame, Padding::kValid};
  int k = 0;  // cycles activations, bias and per-channel quantization across the grid

  // CONV_2D: input shape, kernel, output channels.
  struct ConvShape {
    std::vector<int32_t> in;
    int kh, kw, out_c;
  };
  const ConvShape conv_shapes[] = {
      {{1, 5, 7, 3}, 3, 3, 5}, {{1, 11, 13, 1}, 3, 1, 17}, {{2, 7, 5, 17}, 1, 1, 3},
      {{1, 13, 11, 5}, 5, 3, 1}, {{1, 1, 1, 17}, 1, 1, 13}, {{1, 3, 5, 3}, 5, 5, 3} /* kernel > input: SAME only */,
      // Odd and even extents mixed so that SAME has odd total padding (extra at bottom/right).
      {{1, 6, 8, 3}, 3, 3, 5}, {{1, 7, 5, 5}, 2, 4, 3},
  };
  for (DType t : kTypes)
    for (const ConvShape& s : conv_shapes)
      for (Padding p : kPads)
        for (int stride : {1, 2}) {
          if (p == Padding::kValid && (s.kh > s.in[1] || s.kw > s.in[2])) continue;
          OpCase c;
          c.op = OpType::kConv2D, c.dtype = t, c.in = s.in, c.kh = s.kh, c.kw = s.kw, c.out_c = s.out_c;
          c.padding = p, c.stride = stride, c.act = kActs[k % 3], c.bias = k % 4 != 3, c.per_channel = k % 2 == 0;
          ++k;
          cases.push_back(c);
        }
  for (DType t : kTypes)
    for (Padding p : kPads) {  // dilation 2
      OpCase c;
      c.op = OpType::kConv2D, c.dtype = t, c.in = {1, 11, 13, 3}, c.kh = 3, c.kw = 3, c.out_c = 5, c.dilation = 2, c.padding = p;
      c.act = kActs[k++ % 3];
      cases.push_back(c);
    }

  // DEPTHWISE_CONV_2D: depth multiplier 1 and 2.
  struct DwShape {
    std::vector<int32_t> in;
    int kh, kw;
  };
  const DwShape dw_shapes[] = {{{1, 5, 7, 3}, 3, 3},   {{1, 11, 13, 5}, 5, 5}, {{2, 7, 5, 17}, 3, 3}, {{1, 13, 11, 1}, 3, 5},
                               {{1, 1, 1, 17}, 1, 1}, {{1, 6, 8, 3}, 3, 3},   {{1, 7, 5, 5}, 2, 4}};
  for (DType t : kTypes)
    for (const DwShape& s : dw_shapes)
      for (int m : {1, 2})
        for (Padding p : kPads)
          for (int stride : {1, 2}) {
            OpCase c;
            c.op = OpType::kDepthwiseConv2D, c.dtype = t, c.in = s.in, c.kh = s.kh, c.kw = s.kw, c.depth_multiplier = m;
            c.padding = p, c.stride = stride, c.act = kActs[k % 3], c.bias = k % 4 != 3, c.per_channel = k % 2 == 0;
            ++k;
            cases.push_back(c);
          }
  for (DType t : kTypes) {  // dilation 2
    OpCase c;
    c.op = OpType::kDepthwiseConv2D, c.dtype = t, c.in = {1, 13, 11, 3}, c.kh = 3, c.kw = 3, c.depth_multiplier = 2, c.dilation = 2;
    c.padding = Padding::kSame, c.act = Activation::kRelu6;
    cases.push_back(c);
  }

  // FULLY_CONNECTED: input shape (read as [batch, depth]), units.
  struct FcShape {
    std::vector<int32_t> in;
    int units;
  };
  const FcShape fc_shapes[] = {{{1, 17}, 5}, {{3, 13}, 1}, {{2, 31}, 11}, {{1, 1, 1, 17}, 3}, {{5, 1}, 7}};
  for (DType t : kTypes)
    for (const FcShape& s : fc_shapes)
      for (Activation a : kActs) {
        OpCase c;
        c.op = OpType::kFullyConnected, c.dtype = t, c.in = s.in, c.out_c = s.units, c.act = a, c.bias = k++ % 4 != 3;
        cases.push_back(c);
      }
  {
    OpCase c;  // non-zero weights zero point (applied as filter_offset in the per-tensor kernel)
    c.op = OpType::kFullyConnected, c.dtype = DType::kInt8, c.in = {2, 13}, c.out_c = 5, c.weights_zp = 3;
    cases.push_back(c);
  }

  // AVERAGE_POOL_2D and MAX_POOL_2D.
  const std::vector<int32_t> pool_shapes[] = {{1, 7, 5, 3}, {2, 13, 11, 17}, {1, 5, 5, 1}};
  const int pool_filters[][2] = {{2, 2}, {3, 3}, {3, 2}};
  for (OpType op : {OpType::kAveragePool2D, OpType::kMaxPool2D})
    for (DType t : kTypes)
      for (const auto& s : pool_shapes)
        for (Padding p : kPads)
          for (int stride : {1, 2}) {
            OpCase c;
            c.op = op, c.dtype = t, c.in = s, c.kh = pool_filters[k % 3][0], c.kw = pool_filters[k % 3][1];
            c.padding = p, c.stride = stride, c.act = kActs[(k / 3) % 3];
            ++k;
            cases.push_back(c);
          }
  for (OpType op : {OpType::kAveragePool2D, OpType::kMaxPool2D})
    for (DType t : kTypes) {  // 1x1 spatial, 1x1 window
      OpCase c;
      c.op = op, c.dtype = t, c.in = {1, 1, 1, 5}, c.kh = 1, c.kw = 1, c.padding = Padding::kSame;
      cases.push_back(c);
    }

  // PAD.
  struct PadShape {
    std::vector<int32_t> in, pads;
  };
  const PadShape pad_shapes[] = {{{1, 3, 5, 7}, {0, 0, 1, 2, 0, 3, 2, 1}}, {{1, 5, 5, 17}, {0, 0, 1, 1, 1, 1, 0, 0}}, {{3, 5}, {1, 0, 2, 3}},
                                 {{7}, {2, 5}},                           {{2, 3, 5}, {0, 1, 1, 0, 0, 2}},           {{1, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0, 0}}};
  for (DType t : kTypes)
    for (const PadShape& s : pad_shapes) {
      OpCase c;
      c.op = OpType::kPad, c.dtype = t, c.in = s.in, c.pads = s.pads;
      cases.push_back(c);
    }

  // MEAN.
  struct MeanShape {
    std::vector<int32_t> in, axes;
    bool keep, same_quant;
  };
  const MeanShape mean_shapes[] = {
      {{1, 7, 5, 3}, {1, 2}, true, false},   {{1, 7, 5, 3}, {1, 2}, false, false},   {{1, 7, 5, 3}, {3}, true, false},
      {{1, 7, 5, 3}, {3}, false, false},     {{2, 13, 11, 17}, {1, 2}, false, false}, {{2, 13, 11, 17}, {2, 1}, true, false},
      {{1, 5, 7, 3}, {-1}, false, false},    {{3, 5}, {0}, true, false},               {{1, 11, 13, 5}, {1, 2}, true, true},
      {{1, 3, 3, 17}, {1, 2}, false, true},  {{1, 1, 1, 5}, {1, 2}, true, false},
  };
  for (DType t : kTypes)
    for (const MeanShape& s : mean_shapes) {
      if (t == DType::kFloat32 && s.same_quant) continue;
      OpCase c;
      c.op = OpType::kMean, c.dtype = t, c.in = s.in, c.axes = s.axes, c.keep_dims = s.keep, c.same_quant = s.same_quant;
      cases.push_back(c);
    }

  // SOFTMAX.
  const std::vector<int32_t> softmax_shapes[] = {{1, 5}, {3, 17}, {2, 1, 1, 13}, {1, 1}, {1, 1001}};
  for (DType t : kTypes)
    for (const auto& s : softmax_shapes)
      for (float beta : {1.0f, 0.5f}) {
        OpCase c;
        c.op = OpType::kSoftmax, c.dtype = t, c.in = s, c.beta = beta;
        cases.push_back(c);
      }

  // LOGISTIC.
  for (DType t : kTypes)
    for (const auto& s : {std::vector<int32_t>{1, 17}, std::vector<int32_t>{2, 3, 5, 7}, std::vector<int32_t>{1, 1}}) {
      OpCase c;
      c.op = OpType::kLogistic, c.dtype = t, c.in = s;
      cases.push_back(c);
    }

  // ADD with broadcasting.
  struct AddShape {
    std::vector<int32_t> a, b;
  };
  const AddShape add_shapes[] = {{{1, 5, 7, 3}, {1, 5, 7, 3}}, {{1, 5, 7, 3}, {3}}, {{2, 1, 7, 1}, {1, 5, 1, 3}},
                                 {{1, 5, 7, 3}, {1}},           {{13}, {1, 1, 13}},  {{3, 1}, {1, 17}}};
  for (DType t : kTypes)
    for (const AddShape& s : add_shapes)
      for (Activation a : kActs) {
        OpCase c;
        c.op = OpType::kAdd, c.dtype = t, c.in = s.a, c.in2 = s.b, c.act = a;
        cases.push_back(c);
      }

  // QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).
  for (const auto& s : {std::vector<int32_t>{1, 5, 7, 3}, std::vector<int32_t>{17}})
    for (double f : {1.0, 0.5}) {
      OpCase c;
      c.op = OpType::kQuantize, c.dtype = DType::kFloat32, c.in = s, c.out_scale_factor = f;
      cases.push_back(c);
    }
  for (double f : {0.25, 1.0, 4.0}) {
    OpCase c;
    c.op = OpType::kQuantize, c.dtype = DType::kInt8, c.in = {1, 5, 7, 3}, c.out_scale_factor = f;
    cases.push_back(c);
  }
  for (const auto& s : {std::vector<int32_t>{1, 5, 7, 3}, std::vector<int32_t>{1, 17}}) {
    OpCase c;
    c.op = OpType::kDequantize, c.dtype = DType::kInt8, c.in = s;
    cases.push_back(c);
  }

  // RESHAPE.
  struct ReshapeShape {
    std::vector<int32_t> in, out;
    bool operand;
  };
  const ReshapeShape reshape_shapes[] = {{{1, 5, 7, 3}, {1, 105}, true}, {{2, 3, 5}, {30}, false}, {{1, 1, 1, 17}, {1, 17}, true}};
  for (DType t : kTypes)
    for (const ReshapeShape& s : reshape_shapes) {
      OpCase c;
      c.op = OpType::kReshape, c.dtype = t, c.in = s.in, c.new_shape = s.out, c.shape_operand = s.operand;
      cases.push_back(c);
    }
  return cases;
}

// ---- test-side tensors and randomness -----------------------------------------------

int64_t NumElements(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

// A tensor as the test sees it: description plus data, and its real (dequantized) values.
struct TTensor {
  DType dtype = DType::kFloat32;
  std::vector<int32_t> shape;
  std::vector<float> scale;  // empty: not quantized
  std::vector<int32_t> zp;
  int axis = 0;
  std::vector<float> f32;
  std::vector<int8_t> s8;
  std::vector<int32_t> s32;

  int64_t size() const { return NumElements(shape); }
  int Channel(int64_t i) const {
    if (scale.size() <= 1) return 0;
    int64_t inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    return static_cast<int>((i / inner) % shape[axis]);
  }
  double Real(int64_t i) const {
    const int c = Channel(i);
    switch (dtype) {
      case DType::kFloat32: return f32[i];
      case DType::kInt8: return static_cast<double>(scale[c]) * (static_cast<int32_t>(s8[i]) - zp[c]);
      case DType::kInt32: return scale.empty() ? s32[i] : static_cast<double>(scale[c]) * (s32[i] - zp[c]);
      default: return 0.0;
    }
  }
  const void* data() const {
    switch (dtype) {
      case DType::kFloat32: return f32.data();
      case DType::kInt8: return s8.data();
      default: return s32.data();
    }
  }
};

class Rng {
 public:
  explicit Rng(uint32_t seed) : g_(seed) {}
  double Uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(g_); }
  double LogUniform(double lo, double hi) { return std::exp(Uniform(std::log(lo), std::log(hi))); }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g_); }

 private:
  std::mt19937 g_;
};

// An activation input whose real values span about [-span, span].
TTensor RandomInput(Rng& rng, DType type, std::vector<int32_t> shape, double span) {
  TTensor t;
  t.dtype = type;
  t.shape = std::move(shape);
  const int64_t n = t.size();
  if (type == DType::kFloat32) {
    for (int64_t i = 0; i < n; ++i) t.f32.push_back(static_cast<float>(rng.Uniform(-span, span)));
  } else {
    t.scale = {static_cast<float>(span / 128.0 * rng.LogUniform(0.6, 1.6))};
    t.zp = {rng.Int(-100, 100)};
    for (int64_t i = 0; i < n; ++i) t.s8.push_back(static_cast<int8_t>(rng.Int(-128, 127)));
  }
  return t;
}

// Conv-like weights with real values in about [-1, 1]: int8 symmetric, per channel on
// `axis` (or one scale), or float.
TTensor RandomWeights(Rng& rng, DType type, std::vector<int32_t> shape, int axis, bool per_channel, int32_t zp = 0) {
  TTensor t;
  t.dtype = type;
  t.shape = std::move(shape);
  t.axis = axis;
  const int64_t n = t.size();
  if (type == DType::kFloat32) {
    for (int64_t i = 0; i < n; ++i) t.f32.push_back(static_cast<float>(rng.Uniform(-1, 1)));
  } else {
    const int channels = per_channel ? t.shape[axis] : 1;
    for (int c = 0; c < channels; ++c) {
      t.scale.push_back(static_cast<float>(rng.LogUniform(0.5, 2.0) / 127.0));
      t.zp.push_back(zp);
    }
    for (int64_t i = 0; i < n; ++i) t.s8.push_back(static_cast<int8_t>(rng.Int(-127 + std::max(0, zp), 127 + std::min(0, zp))));
  }
  return t;
}

// Bias with real values in about [-2, 2]; int32 with scale input_scale * filter_scale[c].
TTensor RandomBias(Rng& rng, const TTensor& input, const TTensor& weights, int channels) {
  TTensor t;
  t.shape = {channels};
  if (input.dtype == DType::kFloat32) {
    t.dtype = DType::kFloat32;
    for (int c = 0; c < channels; ++c) t.f32.push_back(static_cast<float>(rng.Uniform(-2, 2)));
    return t;
  }
  t.dtype = DType::kInt32;
  for (size_t c = 0; c < weights.scale.size(); ++c) {
    t.scale.push_back(input.scale[0] * weights.scale[c]);
    t.zp.push_back(0);
  }
  for (int c = 0; c < channels; ++c) {
    const float s = t.scale[t.scale.size() == 1 ? 0 : c];
    t.s32.push_back(static_cast<int32_t>(std::lround(rng.Uniform(-2, 2) / s)));
  }
  return t;
}

TTensor Int32Operand(std::vector<int32_t> shape, std::vector<int32_t> values) {
  TTensor t;
  t.dtype = DType::kInt32;
  t.shape = std::move(shape);
  t.s32 = std::move(values);
  return t;
}

// ---- one problem: inputs, constants, the op, and the oracle ---------------------------

struct Problem {
  std::vector<TTensor> inputs;  // graph inputs, then constants: together the op's inputs in order
  std::vector<TTensor> consts;
  OpOptions options;
  std::vector<int32_t> out_shape;
  DType out_dtype = DType::kFloat32;
  bool has_activation = false;  // fused activation applied by the harness in the real domain
  // int8 output quantization fixed by the op (softmax, logistic, pass-through ops); else
  // chosen from the oracle's range.
  bool fixed_out_quant = false;
  float out_scale = 0.0f;
  int32_t out_zp = 0;
  // Oracle: real output values before the fused activation, and the magnitude each float
  // result is conditioned on (sum of |terms| it accumulates).
  std::vector<double> want;
  std::vector<double> magnitude;
};

struct Geometry {
  int out, pad;
};
// SAME/VALID output size and leading padding (TFLite's ComputePaddingHeightWidth).
Geometry SpatialGeometry(Padding p, int in, int k, int stride, int dilation) {
  const int eff = (k - 1) * dilation + 1;
  const int out = p == Padding::kSame ? (in + stride - 1) / stride : (in - eff + stride) / stride;
  const int total = std::max(0, (out - 1) * stride + eff - in);
  return {out, total / 2};
}

void OracleConv(const OpCase& c, Problem& p, bool depthwise) {
  const TTensor& in = p.inputs[0];
  const TTensor& w = p.consts[0];
  const TTensor* bias = c.bias ? &p.consts[1] : nullptr;
  const int N = in.shape[0], H = in.shape[1], W = in.shape[2], C = in.shape[3];
  const Geometry gy = SpatialGeometry(c.padding, H, c.kh, c.stride, c.dilation);
  const Geometry gx = SpatialGeometry(c.padding, W, c.kw, c.stride, c.dilation);
  const int OC = depthwise ? C * c.depth_multiplier : c.out_c;
  p.out_shape = {N, gy.out, gx.out, OC};
  for (int n = 0; n < N; ++n)
    for (int oy = 0; oy < gy.out; ++oy)
      for (int ox = 0; ox < gx.out; ++ox)
        for (int oc = 0; oc < OC; ++oc) {
          double sum = 0.0, mag = 0.0;
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = oy * c.stride - gy.pad + ky * c.dilation;
              const int ix = ox * c.stride - gx.pad + kx * c.dilation;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;  // padding is real 0
              if (depthwise) {
                const int ic = oc / c.depth_multiplier;
                const double t = in.Real(((int64_t{n} * H + iy) * W + ix) * C + ic) * w.Real((int64_t{ky} * c.kw + kx) * OC + oc);
                sum += t, mag += std::fabs(t);
              } else {
                for (int ic = 0; ic < C; ++ic) {
                  const double t = in.Real(((int64_t{n} * H + iy) * W + ix) * C + ic) *
                                   w.Real(((int64_t{oc} * c.kh + ky) * c.kw + kx) * C + ic);
                  sum += t, mag += std::fabs(t);
                }
              }
            }
          if (bias) sum += bias->Real(oc), mag += std::fabs(bias->Real(oc));
          p.want.push_back(sum);
          p.magnitude.push_back(mag);
        }
}

void OraclePool(const OpCase& c, Problem& p) {
  const TTensor& in = p.inputs[0];
  const int N = in.shape[0], H = in.shape[1], W = in.shape[2], C = in.shape[3];
  const Geometry gy = SpatialGeometry(c.padding, H, c.kh, c.stride, 1);
  const Geometry gx = SpatialGeometry(c.padding, W, c.kw, c.stride, 1);
  p.out_shape = {N, gy.out, gx.out, C};
  for (int n = 0; n < N; ++n)
    for (int oy = 0; oy < gy.out; ++oy)
      for (int ox = 0; ox < gx.out; ++ox)
        for (int ch = 0; ch < C; ++ch) {
          double sum = 0.0, mag = 0.0, mx = -std::numeric_limits<double>::infinity();
          int count = 0;
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = oy * c.stride - gy.pad + ky, ix = ox * c.stride - gx.pad + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;  // padding taps are not counted
              const double v = in.Real(((int64_t{n} * H + iy) * W + ix) * C + ch);
              sum += v, mag += std::fabs(v), mx = std::max(mx, v), ++count;
            }
          const bool avg = c.op == OpType::kAveragePool2D;
          p.want.push_back(avg ? sum / count : mx);
          p.magnitude.push_back(avg ? mag / count : std::fabs(mx));
        }
}

std::vector<int> Unravel(int64_t i, const std::vector<int32_t>& shape) {
  std::vector<int> idx(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = static_cast<int>(i % shape[d]);
    i /= shape[d];
  }
  return idx;
}

// Index into `shape` of the output position `out_idx` (right-aligned; size-1 dims broadcast).
int64_t BroadcastIndex(const std::vector<int>& out_idx, const std::vector<int32_t>& shape) {
  int64_t i = 0;
  const size_t lead = out_idx.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d) i = i * shape[d] + (shape[d] == 1 ? 0 : out_idx[d + lead]);
  return i;
}

Problem MakeProblem(const OpCase& c, Rng& rng) {
  Problem p;
  OpOptions& o = p.options;
  o.padding = c.padding;
  o.stride_h = o.stride_w = c.stride;
  o.dilation_h = o.dilation_w = c.dilation;
  o.activation = c.act;
  p.out_dtype = c.dtype;
  const DType t = c.dtype;
  switch (c.op) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      const bool dw = c.op == OpType::kDepthwiseConv2D;
      p.inputs.push_back(RandomInput(rng, t, c.in, 3.0));
      const int C = c.in[3];
      if (dw) {
        o.depth_multiplier = c.depth_multiplier;
        p.consts.push_back(RandomWeights(rng, t, {1, c.kh, c.kw, C * c.depth_multiplier}, 3, c.per_channel));
      } else {
        p.consts.push_back(RandomWeights(rng, t, {c.out_c, c.kh, c.kw, C}, 0, c.per_channel));
      }
      if (c.bias) p.consts.push_back(RandomBias(rng, p.inputs[0], p.consts[0], dw ? C * c.depth_multiplier : c.out_c));
      p.has_activation = true;
      OracleConv(c, p, dw);
      break;
    }
    case OpType::kFullyConnected: {
      p.inputs.push_back(RandomInput(rng, t, c.in, 3.0));
      const int depth = c.in.back();
      const int batch = static_cast<int>(NumElements(c.in) / depth);
      p.consts.push_back(RandomWeights(rng, t, {c.out_c, depth}, 0, false, c.weights_zp));
      if (c.bias) p.consts.push_back(RandomBias(rng, p.inputs[0], p.consts[0], c.out_c));
      p.has_activation = true;
      p.out_shape = {batch, c.out_c};
      const TTensor &in = p.inputs[0], &w = p.consts[0];
      for (int b = 0; b < batch; ++b)
        for (int u = 0; u < c.out_c; ++u) {
          double sum = 0.0, mag = 0.0;
          for (int d = 0; d < depth; ++d) {
            const double term = in.Real(int64_t{b} * depth + d) * w.Real(int64_t{u} * depth + d);
            sum += term, mag += std::fabs(term);
          }
          if (c.bias) sum += p.consts[1].Real(u), mag += std::fabs(p.consts[1].Real(u));
          p.want.push_back(sum);
          p.magnitude.push_back(mag);
        }
      break;
    }
    case OpType::kAveragePool2D:
    case OpType::kMaxPool2D: {
      p.inputs.push_back(RandomInput(rng, t, c.in, 8.0));
      o.filter_h = c.kh, o.filter_w = c.kw;
      p.has_activation = true;
      p.fixed_out_quant = true;  // pooling passes the input quantization through
      if (t == DType::kInt8) p.out_scale = p.inputs[0].scale[0], p.out_zp = p.inputs[0].zp[0];
      OraclePool(c, p);
      break;
    }
    case OpType::kPad: {
      p.inputs.push_back(RandomInput(rng, t, c.in, 3.0));
      const int rank = static_cast<int>(c.in.size());
      p.consts.push_back(Int32Operand({rank, 2}, c.pads));
      p.fixed_out_quant = true;
      if (t == DType::kInt8) p.out_scale = p.inputs[0].scale[0], p.out_zp = p.inputs[0].zp[0];
      for (int d = 0; d < rank; ++d) p.out_shape.push_back(c.pads[2 * d] + c.in[d] + c.pads[2 * d + 1]);
      for (int64_t i = 0; i < NumElements(p.out_shape); ++i) {
        const std::vector<int> idx = Unravel(i, p.out_shape);
        int64_t src = 0;
        bool inside = true;
        for (int d = 0; d < rank; ++d) {
          const int x = idx[d] - c.pads[2 * d];
          inside = inside && x >= 0 && x < c.in[d];
          src = src * c.in[d] + x;
        }
        p.want.push_back(inside ? p.inputs[0].Real(src) : 0.0);  // padding is real 0
        p.magnitude.push_back(std::fabs(p.want.back()));
      }
      break;
    }
    case OpType::kMean: {
      p.inputs.push_back(RandomInput(rng, t, c.in, 3.0));
      const int rank = static_cast<int>(c.in.size());
      p.consts.push_back(Int32Operand({static_cast<int32_t>(c.axes.size())}, c.axes));
      o.keep_dims = c.keep_dims;
      std::vector<bool> reduced(rank, false);
      for (int a : c.axes) reduced[a < 0 ? a + rank : a] = true;
      std::vector<int32_t> kept_shape;  // output shape with reduced dims as 1
      for (int d = 0; d < rank; ++d) {
        kept_shape.push_back(reduced[d] ? 1 : c.in[d]);
        if (!reduced[d] || c.keep_dims) p.out_shape.push_back(reduced[d] ? 1 : c.in[d]);
      }
      const int64_t outputs = NumElements(kept_shape);
      std::vector<double> sum(outputs, 0.0), mag(outputs, 0.0);
      int64_t count = 1;
      for (int d = 0; d < rank; ++d)
        if (reduced[d]) count *= c.in[d];
      for (int64_t i = 0; i < NumElements(c.in); ++i) {
        std::vector<int> idx = Unravel(i, c.in);
        int64_t o_index = 0;
        for (int d = 0; d < rank; ++d) o_index = o_index * kept_shape[d] + (reduced[d] ? 0 : idx[d]);
        sum[o_index] += p.inputs[0].Real(i);
        mag[o_index] += std::fabs(p.inputs[0].Real(i));
      }
      for (int64_t i = 0; i < outputs; ++i) {
        p.want.push_back(sum[i] / count);
        p.magnitude.push_back(mag[i] / count);
      }
      if (c.same_quant) {
        p.fixed_out_quant = true;
        p.out_scale = p.inputs[0].scale[0], p.out_zp = p.inputs[0].zp[0];
      }
      break;
    }
    case OpType::kSoftmax: {
      p.inputs.push_back(RandomInput(rng, t, c.in, 6.0));
      o.softmax_beta = c.beta;
      p.out_shape = c.in;
      p.fixed_out_quant = true;
      p.out_scale = 1.0f / 256, p.out_zp = -128;
      const int depth = c.in.back();
      const int64_t rows = NumElements(c.in) / depth;
      for (int64_t r = 0; r < rows; ++r) {
        double mx = -std::numeric_limits<double>::infinity(), sum = 0.0;
        for (int d = 0; d < depth; ++d) mx = std::max(mx, c.beta * p.inputs[0].Real(r * depth + d));
        for (int d = 0; d < depth; ++d) sum += std::exp(c.beta * p.inputs[0].Real(r * depth + d) - mx);
        for (int d = 0; d < depth; ++d) {
          p.want.push_back(std::exp(c.beta * p.inputs[0].Real(r * depth + d) - mx) / sum);
          p.magnitude.push_back(p.want.back());
        }
      }
      break;
    }
    case OpType::kLogistic: {
      // Float inputs stay within [-8, 8] (TFLite's float kernel switches formulas outside
      // [-9, 16.6]; see OpsExact.FloatLogisticOutsideTfliteCutoffs).
      p.inputs.push_back(RandomInput(rng, t, c.in, t == DType::kInt8 ? 12.0 : 8.0));
      p.out_shape = c.in;
      p.fixed_out_quant = true;
      p.out_scale = 1.0f / 256, p.out_zp = -128;
      for (int64_t i = 0; i < NumElements(c.in); ++i) {
        p.want.push_back(1.0 / (1.0 + std::exp(-p.inputs[0].Real(i))));
        p.magnitude.push_back(p.want.back());
      }
      break;
    }
    case OpType::kAdd: {
      p.inputs.push_back(RandomInput(rng, t, c.in, 5.0));
      p.inputs.push_back(RandomInput(rng, t, c.in2, 5.0));
      p.has_activation = true;
      const size_t rank = std::max(c.in.size(), c.in2.size());
      for (size_t d = 0; d < rank; ++d) {
        const int da = d + c.in.size() >= rank ? c.in[d + c.in.size() - rank] : 1;
        const int db = d + c.in2.size() >= rank ? c.in2[d + c.in2.size() - rank] : 1;
        p.out_shape.push_back(std::max(da, db));
      }
      for (int64_t i = 0; i < NumElements(p.out_shape); ++i) {
        const std::vector<int> idx = Unravel(i, p.out_shape);
        const double a = p.inputs[0].Real(BroadcastIndex(idx, c.in)), b = p.inputs[1].Real(BroadcastIndex(idx, c.in2));
        p.want.push_back(a + b);
        p.magnitude.push_back(std::fabs(a) + std::fabs(b));
      }
      break;
    }
    case OpType::kQuantize:
    case OpType::kDequantize: {
      p.inputs.push_back(RandomInput(rng, t, c.in, 4.0));
      p.out_shape = c.in;
      p.out_dtype = c.op == OpType::kQuantize ? DType::kInt8 : DType::kFloat32;
      for (int64_t i = 0; i < NumElements(c.in); ++i) {
        p.want.push_back(p.inputs[0].Real(i));
        p.magnitude.push_back(std::fabs(p.want.back()));
      }
      break;
    }
    case OpType::kReshape: {
      p.inputs.push_back(RandomInput(rng, t, c.in, 3.0));
      if (c.shape_operand) p.consts.push_back(Int32Operand({static_cast<int32_t>(c.new_shape.size())}, c.new_shape));
      p.out_shape = c.new_shape;
      p.fixed_out_quant = true;
      if (t == DType::kInt8) p.out_scale = p.inputs[0].scale[0], p.out_zp = p.inputs[0].zp[0];
      for (int64_t i = 0; i < NumElements(c.in); ++i) {
        p.want.push_back(p.inputs[0].Real(i));
        p.magnitude.push_back(std::fabs(p.want.back()));
      }
      break;
    }
  }
  return p;
}

double ApplyActivation(Activation a, double v) {
  if (a == Activation::kRelu) return std::max(v, 0.0);
  if (a == Activation::kRelu6) return std::min(std::max(v, 0.0), 6.0);
  return v;
}

// An int8 output quantization covering the oracle's (pre-activation) range and zero,
// randomly a little narrower (some saturation) or wider.
void ChooseOutputQuant(const OpCase& c, Problem& p, Rng& rng) {
  if (p.fixed_out_quant) return;
  double lo = 0.0, hi = 0.0;
  for (double v : p.want) lo = std::min(lo, v), hi = std::max(hi, v);
  double scale = (hi - lo) / 255.0 * rng.LogUniform(0.75, 1.25) * c.out_scale_factor;
  if (!(scale > 1e-6)) scale = 0.01;
  p.out_scale = static_cast<float>(scale);
  const double zp = std::round(-128.0 - lo / p.out_scale) + rng.Int(-3, 3);
  p.out_zp = static_cast<int32_t>(std::min(127.0, std::max(-128.0, zp)));
}

// ---- the harness --------------------------------------------------------------------

struct RunResult {
  int64_t compared = 0;
  int64_t mismatches = 0;
  int64_t off_by_one = 0;         // int8: |got - round(want)| == 1
  int64_t interior = 0;           // int8: outputs away from saturation and activation clamps
  double interior_abs_err = 0.0;  // int8: sum of |got - want / scale - zp| (unrounded) over those
  double max_float_err = 0.0;     // float: max of |got - want| / tolerance
};

std::string IndexString(int64_t i, const std::vector<int32_t>& shape) {
  std::string s = "[";
  const std::vector<int> idx = Unravel(i, shape);
  for (size_t d = 0; d < idx.size(); ++d) {
    if (d) s += ',';
    s += std::to_string(idx[d]);
  }
  return s + "]";
}

void RunProblem(const OpCase& c, Problem& p, int trial, RunResult& result) {
  GraphBuilder b;
  std::vector<int> op_inputs, graph_inputs;
  for (const TTensor& t : p.inputs) {
    const int id = b.Tensor(t.dtype, t.shape, t.scale, t.zp, t.axis);
    op_inputs.push_back(id);
    graph_inputs.push_back(id);
  }
  for (const TTensor& t : p.consts) {
    int id = -1;
    if (t.dtype == DType::kFloat32) id = b.Const<float>(t.dtype, t.shape, t.f32, t.scale, t.zp, t.axis);
    if (t.dtype == DType::kInt8) id = b.Const<int8_t>(t.dtype, t.shape, t.s8, t.scale, t.zp, t.axis);
    if (t.dtype == DType::kInt32) id = b.Const<int32_t>(t.dtype, t.shape, t.s32, t.scale, t.zp, t.axis);
    op_inputs.push_back(id);
  }
  const bool s8_out = p.out_dtype == DType::kInt8;
  const int out = s8_out ? b.Tensor(DType::kInt8, p.out_shape, {p.out_scale}, {p.out_zp}) : b.Tensor(DType::kFloat32, p.out_shape);
  b.Op(c.op, op_inputs, {out}, p.options).Inputs(graph_inputs).Outputs({out});

  auto interp = Interpreter::Create(b.Build(), {.kernels = KernelSet::kReference});
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  for (size_t i = 0; i < p.inputs.size(); ++i)
    std::memcpy((*interp)->input_data(static_cast<int>(i)), p.inputs[i].data(),
                static_cast<size_t>(p.inputs[i].size()) * DTypeSize(p.inputs[i].dtype));
  (*interp)->Invoke();
  const void* got_data = (*interp)->output_data(0);

  const int64_t n = NumElements(p.out_shape);
  ASSERT_EQ(static_cast<int64_t>(p.want.size()), n) << "oracle size";
  int printed = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double real = p.has_activation ? ApplyActivation(c.act, p.want[i]) : p.want[i];
    ++result.compared;
    if (s8_out) {
      const int got = static_cast<const int8_t*>(got_data)[i];
      const double q = real / static_cast<double>(p.out_scale) + p.out_zp;  // unrounded
      const int want = static_cast<int>(std::min(127.0, std::max(-128.0, std::round(q))));
      const int diff = std::abs(got - want);
      if (diff == 1) ++result.off_by_one;
      if (diff > 1) {
        ++result.mismatches;
        if (printed++ < 5)
          ADD_FAILURE() << "trial " << trial << " output" << IndexString(i, p.out_shape) << ": got " << got << ", want " << want
                        << " (real " << real << ", scale " << p.out_scale << ", zp " << p.out_zp << ")";
      }
      const bool clamped_by_activation = p.has_activation && c.act != Activation::kNone && (real == 0.0 || real == 6.0);
      if (q > -127.5 && q < 126.5 && !clamped_by_activation) {
        ++result.interior;
        result.interior_abs_err += std::fabs(got - q);
      }
    } else {
      const double got = static_cast<const float*>(got_data)[i];
      const double tol = 1e-5 * std::fabs(real) + 1e-6 * p.magnitude[i] + 1e-7;
      const double err = std::fabs(got - real);
      result.max_float_err = std::max(result.max_float_err, err / tol);
      if (!(err <= tol)) {
        ++result.mismatches;
        if (printed++ < 5)
          ADD_FAILURE() << "trial " << trial << " output" << IndexString(i, p.out_shape) << ": got " << got << ", want " << real
                        << " (tolerance " << tol << ")";
      }
    }
  }
}

uint32_t CaseSeed(uint32_t seed, const std::string& name) {
  uint32_t h = 2166136261u;  // FNV-1a of the case name, mixed with the run's seed
  for (char ch : name) h = (h ^ static_cast<uint8_t>(ch)) * 16777619u;
  return h ^ (seed * 2654435761u);
}

const std::vector<OpCase>& OpCases() {
  static const std::vector<OpCase> cases = MakeOpCases();
  return cases;
}

class OpsVsOracle : public ::testing::TestWithParam<size_t> {};

TEST_P(OpsVsOracle, WithinTolerance) {
  const OpCase& c = OpCases()[GetParam()];
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  SCOPED_TRACE(CaseName(c));
  Rng rng(CaseSeed(seed, CaseName(c)));
  RunResult result;
  // c.trials random problems, more for small ones (up to 30) so that the rounding statistic
  // below sees at least 300 outputs.
  for (int trial = 0; trial < c.trials || (result.compared < 300 && trial < 30); ++trial) {
    Problem p = MakeProblem(c, rng);
    if (p.out_dtype == DType::kInt8) ChooseOutputQuant(c, p, rng);
    RunProblem(c, p, trial, result);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_EQ(result.mismatches, 0) << result.mismatches << " of " << result.compared << " outputs out of tolerance ("
                                  << result.off_by_one << " int8 off by one; worst float error " << result.max_float_err
                                  << " x tolerance)";
  // "Within one quantum" alone would accept truncation or a half-quantum bias. The mean
  // distance to the unrounded value is ~0.25 for round-to-nearest and at most 0.3125 for
  // TFLite's double rounding (worst case: a final right shift of 1); truncation gives ~0.5.
  if (result.interior >= 100) {
    const double mean = result.interior_abs_err / static_cast<double>(result.interior);
    EXPECT_LT(mean, 0.42) << "mean |got - real/scale - zp| = " << mean << " over " << result.interior
                          << " unsaturated int8 outputs: rounding looks biased";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, OpsVsOracle, ::testing::Range<size_t>(0, OpCases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string name = "c";
                           name += std::to_string(info.param);
                           name += '_';
                           name += CaseName(OpCases()[info.param]);
                           return name;
                         });

TEST(OpsVsOracleTable, CoversEveryOpAndTypeAndOption) {
  std::set<std::pair<int, int>> op_types;
  std::set<int> acts, pads, strides, multipliers;
  for (const OpCase& c : OpCases()) {
    op_types.insert({static_cast<int>(c.op), static_cast<int>(c.dtype)});
    acts.insert(static_cast<int>(c.act));
    pads.insert(static_cast<int>(c.padding));
    strides.insert(c.stride);
    if (c.op == OpType::kDepthwiseConv2D) multipliers.insert(c.depth_multiplier);
  }
  for (OpType op : {OpType::kConv2D, OpType::kDepthwiseConv2D, OpType::kFullyConnected, OpType::kAveragePool2D, OpType::kMaxPool2D,
                    OpType::kPad, OpType::kMean, OpType::kSoftmax, OpType::kLogistic, OpType::kAdd, OpType::kReshape, OpType::kQuantize})
    for (DType t : {DType::kInt8, DType::kFloat32})
      EXPECT_TRUE(op_types.count({static_cast<int>(op), static_cast<int>(t)})) << OpTypeName(op) << " " << DTypeName(t);
  EXPECT_TRUE(op_types.count({static_cast<int>(OpType::kDequantize), static_cast<int>(DType::kInt8)}));
  EXPECT_EQ(acts.size(), 3u);
  EXPECT_EQ(pads.size(), 2u);
  EXPECT_EQ(strides, (std::set<int>{1, 2}));
  EXPECT_EQ(multipliers, (std::set<int>{1, 2}));
}

// ---- exact hand-computed cases ------------------------------------------------------

template <typename Out, typename In>
std::vector<Out> RunOne(GraphBuilder& b, const std::vector<In>& input, KernelSet kernels = KernelSet::kReference) {
  auto interp = Interpreter::Create(b.Build(), {.kernels = kernels});
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  if (!interp.ok()) return {};
  std::memcpy((*interp)->input_data(0), input.data(), input.size() * sizeof(In));
  (*interp)->Invoke();
  const auto* out = static_cast<const Out*>((*interp)->output_data(0));
  return std::vector<Out>(out, out + (*interp)->output_desc(0).num_elements());
}

TEST(OpsExact, Conv1x1Int8TwoPixels) {
  // input scale 0.5 zp 1; filter (2, -3) scale 0.25; bias 4; output scale 0.25 zp -2, so
  // the multiplier is 0.5 * 0.25 / 0.25 = 0.5 exactly (Q31 2^30, shift 0).
  //   pixel 0 (3, -1):  2*(3-1) - 3*(-1-1) + 4 = 14  -> 14 * 0.5 = 7       -> 7 - 2 = 5
  //   pixel 1 (-1, 6):  2*(-1-1) - 3*(6-1) + 4 = -15 -> -7.5 -> -7 (SRDHM ties toward +inf)
  //                                                                        -> -7 - 2 = -9
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 1, 2, 2}, {0.5f}, {1});
  const int w = b.Const<int8_t>(DType::kInt8, {1, 1, 1, 2}, {2, -3}, {0.25f}, {0});
  const int bias = b.Const<int32_t>(DType::kInt32, {1}, {4}, {0.125f}, {0});
  const int out = b.Tensor(DType::kInt8, {1, 1, 2, 1}, {0.25f}, {-2});
  b.Op(OpType::kConv2D, {in, w, bias}, {out}).Inputs({in}).Outputs({out});
  EXPECT_EQ(RunOne<int8_t>(b, std::vector<int8_t>{3, -1, -1, 6}), (std::vector<int8_t>{5, -9}));
  EXPECT_EQ(RunOne<int8_t>(b, std::vector<int8_t>{3, -1, -1, 6}, KernelSet::kFast), (std::vector<int8_t>{5, -9}));
}

TEST(OpsExact, AvgPoolInt8RoundsHalfAwayFromZeroIncludingNegativeSums) {
  // One 2x2 window per channel over raw int8 values: (sum +- count/2) / count, truncating.
  //   ch0 {-1,-2,-2,-2}: -7/4 = -1.75 -> -2      ch1 {-1,-1,-2,-2}: -6/4 = -1.5 -> -2
  //   ch2 { 1, 1, 2, 2}:  6/4 =  1.5  ->  2      ch3 {-1,-1,-1,-2}: -5/4 = -1.25 -> -1
  //   ch4 {-1, 0, 0, 0}: -1/4 = -0.25 ->  0      ch5 {-128 x4}: -128
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 2, 2, 6}, {0.1f}, {0});
  const int out = b.Tensor(DType::kInt8, {1, 1, 1, 6}, {0.1f}, {0});
  OpOptions o;
  o.filter_h = o.filter_w = 2;
  o.stride_h = o.stride_w = 2;
  b.Op(OpType::kAveragePool2D, {in}, {out}, o).Inputs({in}).Outputs({out});
  // NHWC: pixel-major, 6 channels per pixel.
  const std::vector<int8_t> input = {-1, -1, 1, -1, -1, -128,  //
                                     -2, -1, 1, -1, 0,  -128,  //
                                     -2, -2, 2, -1, 0,  -128,  //
                                     -2, -2, 2, -2, 0,  -128};
  EXPECT_EQ(RunOne<int8_t>(b, input), (std::vector<int8_t>{-2, -2, 2, -1, 0, -128}));
}

TEST(OpsExact, AvgPoolCountsOnlyInBoundsTaps) {
  // 3x3 SAME window at the corner of a 2x2 input sees 4 taps, not 9.
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 2, 2, 1});
  const int out = b.Tensor(DType::kFloat32, {1, 2, 2, 1});
  OpOptions o;
  o.filter_h = o.filter_w = 3;
  o.padding = Padding::kSame;
  b.Op(OpType::kAveragePool2D, {in}, {out}, o).Inputs({in}).Outputs({out});
  EXPECT_EQ(RunOne<float>(b, std::vector<float>{1, 2, 3, 6}), (std::vector<float>{3, 3, 3, 3}));
}

TEST(OpsExact, SoftmaxInt8OfEqualInputsSplitsEvenly) {
  // Output scale 1/256, zero point -128: p * 256 - 128.
  //   depth 1: p = 1   -> 256 - 128 = 128, saturated to 127
  //   depth 2: p = 1/2 -> 128 - 128 = 0 (uint8 128 of 256)
  //   depth 3: p = 1/3 -> round(85.33) - 128 = -43
  //   depth 4: p = 1/4 -> 64 - 128 = -64
  const std::pair<int, int8_t> cases[] = {{1, 127}, {2, 0}, {3, -43}, {4, -64}};
  for (const auto& [depth, want] : cases) {
    for (int8_t value : {int8_t{-128}, int8_t{5}, int8_t{127}}) {
      GraphBuilder b;
      const int in = b.Tensor(DType::kInt8, {1, depth}, {0.1f}, {3});
      const int out = b.Tensor(DType::kInt8, {1, depth}, {1.0f / 256}, {-128});
      b.Op(OpType::kSoftmax, {in}, {out}).Inputs({in}).Outputs({out});
      EXPECT_EQ(RunOne<int8_t>(b, std::vector<int8_t>(depth, value)), std::vector<int8_t>(depth, want))
          << "depth " << depth << " value " << int{value};
    }
  }
  // Two inputs 0.1 * 7 = 0.7 apart: e^0.7 / (1 + e^0.7) = 0.66819 -> 171.06 -> 43; the
  // other 0.33181 -> 84.94 -> -43. The pair still sums to 255 = 127 + 128.
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 2}, {0.1f}, {0});
  const int out = b.Tensor(DType::kInt8, {1, 2}, {1.0f / 256}, {-128});
  b.Op(OpType::kSoftmax, {in}, {out}).Inputs({in}).Outputs({out});
  EXPECT_EQ(RunOne<int8_t>(b, std::vector<int8_t>{7, 0}), (std::vector<int8_t>{43, -43}));
}

TEST(OpsExact, PadFillsWithZeroPoint) {
  // int8: the pad value is the output zero point (real 0), not 0.
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 1, 2, 1}, {0.3f}, {-7});
  const int pads = b.Const<int32_t>(DType::kInt32, {4, 2}, {0, 0, 1, 0, 0, 1, 0, 0});
  const int out = b.Tensor(DType::kInt8, {1, 2, 3, 1}, {0.3f}, {-7});
  b.Op(OpType::kPad, {in, pads}, {out}).Inputs({in}).Outputs({out});
  EXPECT_EQ(RunOne<int8_t>(b, std::vector<int8_t>{10, -20}), (std::vector<int8_t>{-7, -7, -7, 10, -20, -7}));

  GraphBuilder f;
  const int fin = f.Tensor(DType::kFloat32, {2});
  const int fpads = f.Const<int32_t>(DType::kInt32, {1, 2}, {1, 2});
  const int fout = f.Tensor(DType::kFloat32, {5});
  f.Op(OpType::kPad, {fin, fpads}, {fout}).Inputs({fin}).Outputs({fout});
  EXPECT_EQ(RunOne<float>(f, std::vector<float>{1.5f, -2.5f}), (std::vector<float>{0, 1.5f, -2.5f, 0, 0}));
}

TEST(OpsExact, QuantizeFloatRoundsHalfAwayFromZeroAndSaturates) {
  // scale 0.5, zp 1: x / 0.5 = 2x; ties 2.5 -> 3, -2.5 -> -3.
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {6});
  const int out = b.Tensor(DType::kInt8, {6}, {0.5f}, {1});
  b.Op(OpType::kQuantize, {in}, {out}).Inputs({in}).Outputs({out});
  EXPECT_EQ(RunOne<int8_t>(b, std::vector<float>{1.25f, -1.25f, 0.0f, 0.2f, 1000.0f, -1000.0f}),
            (std::vector<int8_t>{4, -2, 1, 1, 127, -128}));
}

TEST(OpsExact, MeanInt8KnownValues) {
  // Same input and output quantization (scale 0.5, zp 2): mean of raw values with the
  // zero point removed and restored, rounded to nearest.
  //   ch0: {3, 4, 5, 8} -> centered {1,2,3,6}, mean 3    -> 5
  //   ch1: {-1, 0, 0, 0} -> centered {-3,-2,-2,-2}, mean -2.25 -> -2 + 2 = 0
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 2, 2, 2}, {0.5f}, {2});
  const int axes = b.Const<int32_t>(DType::kInt32, {2}, {1, 2});
  const int out = b.Tensor(DType::kInt8, {1, 2}, {0.5f}, {2});
  b.Op(OpType::kMean, {in, axes}, {out}).Inputs({in}).Outputs({out});
  EXPECT_EQ(RunOne<int8_t>(b, std::vector<int8_t>{3, -1, 4, 0, 5, 0, 8, 0}), (std::vector<int8_t>{5, 0}));
}

TEST(OpsExact, AddInt8SameScales) {
  // Scales 0.5 everywhere, zero points 1, -1 -> 0: (a - 1) + (b + 1) exactly, saturated.
  GraphBuilder b;
  const int x = b.Tensor(DType::kInt8, {4}, {0.5f}, {1});
  const int y = b.Const<int8_t>(DType::kInt8, {4}, {-1, 9, -101, 100}, {0.5f}, {-1});
  const int out = b.Tensor(DType::kInt8, {4}, {0.5f}, {0});
  b.Op(OpType::kAdd, {x, y}, {out}).Inputs({x}).Outputs({out});
  EXPECT_EQ(RunOne<int8_t>(b, std::vector<int8_t>{1, 5, -20, 100}), (std::vector<int8_t>{0, 14, -121, 127}));
}

TEST(OpsExact, LogisticInt8AtZeroIsOneHalf) {
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {3}, {0.1f}, {4});
  const int out = b.Tensor(DType::kInt8, {3}, {1.0f / 256}, {-128});
  b.Op(OpType::kLogistic, {in}, {out}).Inputs({in}).Outputs({out});
  // x = 0 -> 0.5 -> 0; x = 12.3 and -13.2 are beyond the input radius (120 quanta) -> saturated.
  EXPECT_EQ(RunOne<int8_t>(b, std::vector<int8_t>{4, 127, -128}), (std::vector<int8_t>{0, 127, -128}));
}

TEST(OpsExact, FloatLogisticOutsideTfliteCutoffs) {
  // TFLite's float reference (reference_ops::Logistic, docs section 4.4):
  //   x > 16.619047164916992188f -> 1.0f; x < -9.0f -> expf(x); else 1 / (1 + expf(-x)).
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {4});
  const int out = b.Tensor(DType::kFloat32, {4});
  b.Op(OpType::kLogistic, {in}, {out}).Inputs({in}).Outputs({out});
  const std::vector<float> x = {17.0f, -9.5f, -12.0f, -20.0f};
  const std::vector<float> got = RunOne<float>(b, x);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], 1.0f);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(got[i], std::exp(x[i])) << "x=" << x[i];
}

}  // namespace
}  // namespace personcls
