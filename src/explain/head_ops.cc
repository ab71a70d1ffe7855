#include "explain/head_ops.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "runtime/kernel_params.h"

namespace personcls::explain {
namespace {

const TensorDesc& In(const Graph& g, const OpDesc& op, size_t i) { return g.tensors[op.inputs[i]]; }
const TensorDesc& Out(const Graph& g, const OpDesc& op) { return g.tensors[op.outputs[0]]; }
const float* F32(const TensorDesc& t) { return reinterpret_cast<const float*>(t.data); }

double Activate(Activation a, double x) {
  if (a == Activation::kRelu) return std::max(x, 0.0);
  if (a == Activation::kRelu6) return std::min(std::max(x, 0.0), 6.0);
  return x;
}
// Derivative of the fused activation; 0 at the kinks (as the clamp's subgradient).
double ActivationSlope(Activation a, double x) {
  if (a == Activation::kRelu) return x > 0.0 ? 1.0 : 0.0;
  if (a == Activation::kRelu6) return x > 0.0 && x < 6.0 ? 1.0 : 0.0;
  return 1.0;
}

// FULLY_CONNECTED and 1x1 CONV_2D share one form: rows of `depth` inputs times W [units, depth].
struct Dense {
  int64_t rows, depth, units;
  const float* w;
  const float* bias;  // may be null
};
Dense DenseOf(const Graph& g, const OpDesc& op, int64_t in_elements) {
  const TensorDesc& w = In(g, op, 1);
  Dense d;
  d.units = w.shape[0];
  d.depth = w.shape.back();
  d.rows = in_elements / d.depth;
  d.w = F32(w);
  d.bias = op.inputs.size() > 2 && op.inputs[2] >= 0 ? F32(In(g, op, 2)) : nullptr;
  return d;
}

// Average-pool window of output (oy, ox) clipped to the input: [y0,y1) x [x0,x1).
struct PoolGeometry {
  int n, h, w, c, oh, ow, pad_top, pad_left;
};
PoolGeometry PoolOf(const Graph& g, const OpDesc& op) {
  const TensorDesc& in = In(g, op, 0);
  const TensorDesc& out = Out(g, op);
  const OpOptions& o = op.options;
  PoolGeometry p{in.shape[0], in.shape[1], in.shape[2], in.shape[3], out.shape[1], out.shape[2], 0, 0};
  if (o.padding == Padding::kSame) {
    p.pad_top = ConvLeadingPadding(o.stride_h, 1, p.h, o.filter_h, p.oh);
    p.pad_left = ConvLeadingPadding(o.stride_w, 1, p.w, o.filter_w, p.ow);
  }
  return p;
}

// 4-D view of MEAN: dims padded to rank 4 at the front, reduce flags per dim.
struct MeanGeometry {
  int64_t shape[4];
  bool reduce[4];
};
MeanGeometry MeanOf(const Graph& g, const OpDesc& op) {
  const TensorDesc& in = In(g, op, 0);
  const TensorDesc& axes = In(g, op, 1);
  const int rank = static_cast<int>(in.shape.size()), lead = 4 - rank;
  MeanGeometry m{};
  for (int d = 0; d < 4; ++d) m.shape[d] = d < lead ? 1 : in.shape[d - lead];
  const auto* a = reinterpret_cast<const int32_t*>(axes.data);
  for (int64_t i = 0; i < axes.num_elements(); ++i) m.reduce[(a[i] < 0 ? a[i] + rank : a[i]) + lead] = true;
  return m;
}
// Output index of input element (i0..i3) and the number of elements averaged.
int64_t MeanOutIndex(const MeanGeometry& m, const int64_t idx[4]) {
  int64_t o = 0;
  for (int d = 0; d < 4; ++d)
    if (!m.reduce[d]) o = o * m.shape[d] + idx[d];
  return o;
}
template <typename F>
void ForEachIndex4(const MeanGeometry& m, F f) {
  int64_t idx[4];
  int64_t flat = 0;
  for (idx[0] = 0; idx[0] < m.shape[0]; ++idx[0])
    for (idx[1] = 0; idx[1] < m.shape[1]; ++idx[1])
      for (idx[2] = 0; idx[2] < m.shape[2]; ++idx[2])
        for (idx[3] = 0; idx[3] < m.shape[3]; ++idx[3]) f(flat++, idx);
}

template <typename F>
void ForEachPoolWindow(const PoolGeometry& p, const OpOptions& o, F f) {
  for (int b = 0; b < p.n; ++b)
    for (int oy = 0; oy < p.oh; ++oy)
      for (int ox = 0; ox < p.ow; ++ox) {
        const int y0 = std::max(oy * o.stride_h - p.pad_top, 0), y1 = std::min(oy * o.stride_h - p.pad_top + o.filter_h, p.h);
        const int x0 = std::max(ox * o.stride_w - p.pad_left, 0), x1 = std::min(ox * o.stride_w - p.pad_left + o.filter_w, p.w);
        const double count = static_cast<double>((y1 - y0) * (x1 - x0));
        for (int ch = 0; ch < p.c; ++ch) {
          const int64_t out = ((static_cast<int64_t>(b) * p.oh + oy) * p.ow + ox) * p.c + ch;
          for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) f(out, ((static_cast<int64_t>(b) * p.h + y) * p.w + x) * p.c + ch, count);
        }
      }
}

}  // namespace

Status CheckHeadOp(const Graph& g, const OpDesc& op) {
  const std::string what = std::string(OpTypeName(op.type)) + ": ";
  for (int t : op.inputs)
    if (t >= 0 && g.tensors[t].dtype != DType::kFloat32 && !(g.tensors[t].is_constant() && g.tensors[t].dtype == DType::kInt32))
      return Status::Error(what + "tensor '" + g.tensors[t].name + "' is not float32");
  switch (op.type) {
    case OpType::kReshape:
    case OpType::kSoftmax:
    case OpType::kLogistic:
      return Status::Ok();
    case OpType::kMean:
      if (In(g, op, 0).shape.size() > 4 || !In(g, op, 1).is_constant()) return Status::Error(what + "needs rank <= 4 and constant axes");
      return Status::Ok();
    case OpType::kAveragePool2D:
      if (In(g, op, 0).shape.size() != 4) return Status::Error(what + "input must be NHWC");
      return Status::Ok();
    case OpType::kFullyConnected: {
      const TensorDesc& w = In(g, op, 1);
      if (!w.is_constant() || w.shape.size() != 2 || In(g, op, 0).num_elements() % w.shape[1] != 0)
        return Status::Error(what + "needs constant weights [units, depth] dividing the input");
      return Status::Ok();
    }
    case OpType::kConv2D: {
      const TensorDesc& w = In(g, op, 1);
      if (!w.is_constant() || w.shape.size() != 4 || w.shape[1] != 1 || w.shape[2] != 1 || op.options.stride_h != 1 || op.options.stride_w != 1)
        return Status::Error(what + "only 1x1 convolutions with stride 1 are supported after the feature map");
      return Status::Ok();
    }
    default:
      return Status::Error(what + "not supported after the feature map");
  }
}

HeadOpValues HeadOpForward(const Graph& g, const OpDesc& op, const std::vector<double>& in) {
  assert(CheckHeadOp(g, op).ok());
  HeadOpValues v;
  const int64_t n_out = Out(g, op).num_elements();
  switch (op.type) {
    case OpType::kReshape:
      v.pre = in;
      break;
    case OpType::kFullyConnected:
    case OpType::kConv2D: {
      const Dense d = DenseOf(g, op, static_cast<int64_t>(in.size()));
      v.pre.assign(d.rows * d.units, 0.0);
      for (int64_t r = 0; r < d.rows; ++r)
        for (int64_t u = 0; u < d.units; ++u) {
          double acc = d.bias ? d.bias[u] : 0.0;
          for (int64_t k = 0; k < d.depth; ++k) acc += in[r * d.depth + k] * static_cast<double>(d.w[u * d.depth + k]);
          v.pre[r * d.units + u] = acc;
        }
      break;
    }
    case OpType::kAveragePool2D: {
      v.pre.assign(n_out, 0.0);
      ForEachPoolWindow(PoolOf(g, op), op.options, [&](int64_t o, int64_t i, double count) { v.pre[o] += in[i] / count; });
      break;
    }
    case OpType::kMean: {
      const MeanGeometry m = MeanOf(g, op);
      const double count = static_cast<double>(in.size()) / static_cast<double>(n_out);
      v.pre.assign(n_out, 0.0);
      ForEachIndex4(m, [&](int64_t flat, const int64_t* idx) { v.pre[MeanOutIndex(m, idx)] += in[flat] / count; });
      break;
    }
    case OpType::kSoftmax: {
      const int64_t depth = In(g, op, 0).shape.back();
      v.pre = in;
      v.out.resize(in.size());
      for (size_t r = 0; r < in.size(); r += depth) {
        const double top = *std::max_element(in.begin() + r, in.begin() + r + depth);
        double sum = 0.0;
        for (int64_t k = 0; k < depth; ++k) sum += v.out[r + k] = std::exp(op.options.softmax_beta * (in[r + k] - top));
        for (int64_t k = 0; k < depth; ++k) v.out[r + k] /= sum;
      }
      return v;
    }
    case OpType::kLogistic:
      v.pre = in;
      for (double x : in) v.out.push_back(1.0 / (1.0 + std::exp(-x)));
      return v;
    default:
      assert(false);
  }
  v.out.resize(v.pre.size());
  for (size_t i = 0; i < v.pre.size(); ++i) v.out[i] = Activate(op.options.activation, v.pre[i]);
  return v;
}

std::vector<double> HeadOpBackward(const Graph& g, const OpDesc& op, const std::vector<double>& in, const HeadOpValues& v,
                                   const std::vector<double>& d_out) {
  std::vector<double> d_in(in.size(), 0.0);
  if (op.type == OpType::kSoftmax) {
    const int64_t depth = In(g, op, 0).shape.back();
    for (size_t r = 0; r < in.size(); r += depth) {
      double dot = 0.0;
      for (int64_t k = 0; k < depth; ++k) dot += d_out[r + k] * v.out[r + k];
      for (int64_t k = 0; k < depth; ++k) d_in[r + k] = op.options.softmax_beta * v.out[r + k] * (d_out[r + k] - dot);
    }
    return d_in;
  }
  if (op.type == OpType::kLogistic) {
    for (size_t i = 0; i < in.size(); ++i) d_in[i] = d_out[i] * v.out[i] * (1.0 - v.out[i]);
    return d_in;
  }
  std::vector<double> d_pre(d_out.size());
  for (size_t i = 0; i < d_pre.size(); ++i) d_pre[i] = d_out[i] * ActivationSlope(op.options.activation, v.pre[i]);
  switch (op.type) {
    case OpType::kReshape:
      return d_pre;
    case OpType::kFullyConnected:
    case OpType::kConv2D: {
      const Dense d = DenseOf(g, op, static_cast<int64_t>(in.size()));
      for (int64_t r = 0; r < d.rows; ++r)
        for (int64_t u = 0; u < d.units; ++u)
          for (int64_t k = 0; k < d.depth; ++k) d_in[r * d.depth + k] += d_pre[r * d.units + u] * static_cast<double>(d.w[u * d.depth + k]);
      return d_in;
    }
    case OpType::kAveragePool2D:
      ForEachPoolWindow(PoolOf(g, op), op.options, [&](int64_t o, int64_t i, double count) { d_in[i] += d_pre[o] / count; });
      return d_in;
    case OpType::kMean: {
      const MeanGeometry m = MeanOf(g, op);
      const double count = static_cast<double>(in.size()) / static_cast<double>(d_out.size());
      ForEachIndex4(m, [&](int64_t flat, const int64_t* idx) { d_in[flat] = d_pre[MeanOutIndex(m, idx)] / count; });
      return d_in;
    }
    default:
      assert(false);
      return d_in;
  }
}

}  // namespace personcls::explain
