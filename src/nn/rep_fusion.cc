#include "personcls/rep_fusion.h"

#include <algorithm>
#include <cmath>

namespace personcls {
namespace {

// Row-major dense matrix in double.
struct Matrix {
  int rows = 0, cols = 0;
  std::vector<double> v;
  Matrix(int r, int c) : rows(r), cols(c), v(static_cast<size_t>(r) * c, 0.0) {}
  double& at(int r, int c) { return v[static_cast<size_t>(r) * cols + c]; }
  double at(int r, int c) const { return v[static_cast<size_t>(r) * cols + c]; }
};

Matrix MatMul(const Matrix& a, const Matrix& b) {
  Matrix c(a.rows, b.cols);
  for (int i = 0; i < a.rows; ++i)
    for (int k = 0; k < a.cols; ++k) {
      const double aik = a.at(i, k);
      if (aik == 0.0) continue;
      for (int j = 0; j < b.cols; ++j) c.at(i, j) += aik * b.at(k, j);
    }
  return c;
}

class StateReader {
 public:
  explicit StateReader(const StateDict& state) : state_(state) {}

  Expected<const std::vector<float>*> Get(const std::string& name, size_t size) const {
    auto it = state_.find(name);
    if (it == state_.end()) return Status::Error("missing tensor " + name);
    if (it->second.size() != size)
      return Status::Error("tensor " + name + " has " + std::to_string(it->second.size()) + " values, expected " + std::to_string(size));
    // NaN or inf would run silently to "nan" scores (and, once quantized, to undefined
    // float-to-int8 casts).
    for (size_t i = 0; i < size; ++i)
      if (!std::isfinite(it->second[i])) return Status::Error("tensor " + name + " holds a non-finite value (" + std::to_string(it->second[i]) + ") at index " + std::to_string(i));
    return &it->second;
  }
  bool Has(const std::string& name) const { return state_.count(name) > 0; }

  // BN as y = scale * x + shift per channel.
  Status BatchNorm(const std::string& prefix, int channels, std::vector<double>& scale, std::vector<double>& shift) const {
    PCLS_ASSIGN_OR_RETURN(const auto* w, Get(prefix + ".weight", channels));
    PCLS_ASSIGN_OR_RETURN(const auto* b, Get(prefix + ".bias", channels));
    PCLS_ASSIGN_OR_RETURN(const auto* mean, Get(prefix + ".running_mean", channels));
    PCLS_ASSIGN_OR_RETURN(const auto* var, Get(prefix + ".running_var", channels));
    scale.resize(channels);
    shift.resize(channels);
    for (int c = 0; c < channels; ++c) {
      if (!((*var)[c] >= 0)) return Status::Error(prefix + ".running_var is negative or NaN");
      scale[c] = (*w)[c] / std::sqrt(static_cast<double>((*var)[c]) + kBatchNormEps);
      shift[c] = (*b)[c] - (*mean)[c] * scale[c];
    }
    return Status::Ok();
  }

 private:
  const StateDict& state_;
};

// OIHW (PyTorch) 3x3 weights -> OHWI float.
std::vector<float> OihwToOhwi(const std::vector<double>& w, int out_c, int in_c) {
  std::vector<float> r(w.size());
  for (int o = 0; o < out_c; ++o)
    for (int i = 0; i < in_c; ++i)
      for (int k = 0; k < 9; ++k) r[(static_cast<size_t>(o) * 9 + k) * in_c + i] = static_cast<float>(w[(static_cast<size_t>(o) * in_c + i) * 9 + k]);
  return r;
}

// Conv3x3 (OIHW, optional bias) followed by BN -> fused OIHW weights and bias, in double.
Status FoldConvBn(const StateReader& s, const std::string& conv, const std::string& bn, bool has_bias, int in_c, int out_c,
                  std::vector<double>& w, std::vector<double>& b) {
  PCLS_ASSIGN_OR_RETURN(const auto* cw, s.Get(conv + ".weight", static_cast<size_t>(out_c) * in_c * 9));
  const std::vector<float>* cb = nullptr;
  if (has_bias) {
    PCLS_ASSIGN_OR_RETURN(cb, s.Get(conv + ".bias", out_c));
  }
  std::vector<double> scale, shift;
  PCLS_RETURN_IF_ERROR(s.BatchNorm(bn, out_c, scale, shift));
  w.assign(cw->begin(), cw->end());
  b.assign(out_c, 0.0);
  for (int o = 0; o < out_c; ++o) {
    for (size_t k = 0; k < static_cast<size_t>(in_c) * 9; ++k) w[o * in_c * 9 + k] *= scale[o];
    b[o] = (cb ? (*cb)[o] : 0.0) * scale[o] + shift[o];
  }
  return Status::Ok();
}

Expected<DeployWeights::Conv> FuseBlock(const StateReader& s, const std::string& p, const ConvSpec& spec, FusionSource& source) {
  const int c = spec.out_c, in_c = spec.in_c;
  const bool has_fuse_conv = s.Has(p + ".fuse_conv.weight") || s.Has(p + ".fuse_conv.bias");
  if (!s.Has(p + ".conv3x3.conv.weight") && has_fuse_conv) {  // deploy-only block
    PCLS_ASSIGN_OR_RETURN(const auto* w, s.Get(p + ".fuse_conv.weight", static_cast<size_t>(c) * in_c * 9));
    PCLS_ASSIGN_OR_RETURN(const auto* b, s.Get(p + ".fuse_conv.bias", c));
    ++source.from_fuse_conv;
    return DeployWeights::Conv{OihwToOhwi(std::vector<double>(w->begin(), w->end()), c, in_c), *b};
  }
  ++source.from_branches;
  source.ignored_fuse_conv += has_fuse_conv;
  // x0 = W3 in + b3 (BN_3x3 folded in).
  std::vector<double> w3, b3;
  PCLS_RETURN_IF_ERROR(FoldConvBn(s, p + ".conv3x3.conv", p + ".conv3x3.norm", true, in_c, c, w3, b3));
  // d = Sd x0 + td.
  std::vector<double> sd, td;
  PCLS_RETURN_IF_ERROR(s.BatchNorm(p + ".dense_norm", c, sd, td));
  // x_{i+1} = M_i x_i + c_i + [i > 0] d, M_i = diag(s_i) W_i + diag(s_id_i),
  // c_i = s_i b_i + t_i + t_id_i. Track x_i = P x0 + q.
  Matrix P(c, c);
  for (int j = 0; j < c; ++j) P.at(j, j) = 1.0;
  std::vector<double> q(c, 0.0);
  for (int i = 0; i < 6; ++i) {
    const std::string n = std::to_string(i);
    PCLS_ASSIGN_OR_RETURN(const auto* wi, s.Get(p + ".conv." + n + ".conv.weight", static_cast<size_t>(c) * c));
    PCLS_ASSIGN_OR_RETURN(const auto* bi, s.Get(p + ".conv." + n + ".conv.bias", c));
    std::vector<double> si, ti, sid, tid;
    PCLS_RETURN_IF_ERROR(s.BatchNorm(p + ".conv." + n + ".norm", c, si, ti));
    PCLS_RETURN_IF_ERROR(s.BatchNorm(p + ".norm." + n, c, sid, tid));
    Matrix M(c, c);
    std::vector<double> ci(c);
    for (int r = 0; r < c; ++r) {
      for (int k = 0; k < c; ++k) M.at(r, k) = si[r] * (*wi)[static_cast<size_t>(r) * c + k];
      M.at(r, r) += sid[r];
      ci[r] = si[r] * (*bi)[r] + ti[r] + tid[r];
    }
    Matrix next = MatMul(M, P);
    std::vector<double> next_q(c);
    for (int r = 0; r < c; ++r) {
      double acc = ci[r];
      for (int k = 0; k < c; ++k) acc += M.at(r, k) * q[k];
      next_q[r] = acc;
      if (i > 0) {
        next.at(r, r) += sd[r];
        next_q[r] += td[r];
      }
    }
    P = std::move(next);
    q = std::move(next_q);
  }
  // Fused: W = P W3 (per tap and input channel), b = P b3 + q.
  std::vector<double> w(static_cast<size_t>(c) * in_c * 9, 0.0), b(c, 0.0);
  for (int o = 0; o < c; ++o) {
    double acc = q[o];
    for (int j = 0; j < c; ++j) {
      const double pj = P.at(o, j);
      acc += pj * b3[j];
      for (size_t k = 0; k < static_cast<size_t>(in_c) * 9; ++k) w[o * in_c * 9 + k] += pj * w3[j * in_c * 9 + k];
    }
    b[o] = acc;
  }
  std::vector<float> bf(b.begin(), b.end());
  return DeployWeights::Conv{OihwToOhwi(w, c, in_c), bf};
}

}  // namespace

std::string FusionSource::Describe() const {
  auto blocks = [](int n) { return std::to_string(n) + (n == 1 ? " RepConv1x1 block" : " RepConv1x1 blocks"); };
  std::string text;
  if (from_branches > 0) {
    text = blocks(from_branches) + " fused from " + (from_branches == 1 ? "its" : "their") + " train-form branches";
    if (ignored_fuse_conv > 0)
      text += " (" + (ignored_fuse_conv == from_branches ? std::string("their") : std::to_string(ignored_fuse_conv)) + " stored fuse_conv ignored)";
  }
  if (from_fuse_conv > 0) text += (text.empty() ? "" : "; ") + blocks(from_fuse_conv) + " taken from fuse_conv (deploy-only state dict)";
  return text;
}

Expected<DeployWeights> FuseStateDict(const ArchSpec& spec, int num_classes, const StateDict& state, FusionSource* source) {
  StateReader s(state);
  FusionSource local;
  DeployWeights out;
  std::vector<double> w, b;
  PCLS_RETURN_IF_ERROR(FoldConvBn(s, "backbone.conv1.conv", "backbone.conv1.norm", false, spec.stem.in_c, spec.stem.out_c, w, b));
  out.stem = {OihwToOhwi(w, spec.stem.out_c, spec.stem.in_c), std::vector<float>(b.begin(), b.end())};
  for (const ConvSpec& block : spec.blocks) {
    PCLS_ASSIGN_OR_RETURN(DeployWeights::Conv conv, FuseBlock(s, "backbone." + block.name, block, local));
    out.blocks.push_back(std::move(conv));
  }
  PCLS_ASSIGN_OR_RETURN(const auto* fw, s.Get("head.fc.weight", static_cast<size_t>(num_classes) * spec.feature_channels));
  PCLS_ASSIGN_OR_RETURN(const auto* fb, s.Get("head.fc.bias", num_classes));
  out.fc_weight = *fw;
  out.fc_bias = *fb;
  // Finite inputs can still fuse to inf (a huge BN weight over a tiny running_var).
  auto finite = [](const std::vector<float>& v) { return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); }); };
  if (!finite(out.stem.weight) || !finite(out.stem.bias)) return Status::Error("backbone.conv1 fuses to non-finite weights (float32 overflow)");
  for (size_t k = 0; k < out.blocks.size(); ++k)
    if (!finite(out.blocks[k].weight) || !finite(out.blocks[k].bias))
      return Status::Error("backbone." + spec.blocks[k].name + " fuses to non-finite weights (float32 overflow)");
  if (source) *source = local;
  return out;
}

}  // namespace personcls
