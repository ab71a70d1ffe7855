#include "nn/mbv2_rep_model.h"

#include <algorithm>
#include <stdexcept>

#include "ops/ops.h"
#include "ops/rep_chain.h"

namespace personcls {

namespace {

constexpr int kDepth = 6;  // 1x1 branches per RepConv1x1 block

struct Conv {
  int cin = 0, cout = 0, k = 1;
  bool has_bias = false;
  Tensor w, b, gw, gb;  // w OHWI
  void Init(int in, int out, int kernel, bool bias) {
    cin = in, cout = out, k = kernel, has_bias = bias;
    w.Resize({out, kernel, kernel, in});
    gw.Resize({out, kernel, kernel, in});
    if (bias) {
      b.Resize({out});
      gb.Resize({out});
    }
  }
};

struct BN {
  int c = 0;
  Tensor w, b, rm, rv, gw, gb;
  int64_t nbt = 0;
  std::vector<float> save_mean, save_invstd;
  void Init(int channels) {
    c = channels;
    w.Resize({c}, 1.0f);
    b.Resize({c});
    rm.Resize({c});
    rv.Resize({c}, 1.0f);
    gw.Resize({c});
    gb.Resize({c});
    save_mean.assign(c, 0.0f);
    save_invstd.assign(c, 0.0f);
  }
};

struct Block {
  ConvSpec spec;
  Conv c3;
  BN n3, dense;
  Conv c1[kDepth];
  BN bn1[kDepth], id[kDepth];
  // Activations of the last forward, [N, OH, OW, C].
  Tensor c3out;        // conv3x3 output (input of conv3x3.norm)
  Tensor x[kDepth + 1];  // x[0] = conv3x3.norm output; x[i+1] = chain after step i; x[6] after ReLU
  Tensor z[kDepth];    // conv.{i}.conv outputs
};

// A state_dict entry.
struct Entry {
  std::string name;
  Tensor* value = nullptr;  // nullptr for num_batches_tracked
  Tensor* grad = nullptr;   // nullptr for buffers
  int64_t* nbt = nullptr;
  const Conv* conv = nullptr;  // set for conv weights (OIHW <-> OHWI)
};

void OihwToOhwi(const Conv& c, const float* src, float* dst) {
  const int k2 = c.k * c.k;
  for (int o = 0; o < c.cout; ++o)
    for (int i = 0; i < c.cin; ++i)
      for (int t = 0; t < k2; ++t) dst[(static_cast<size_t>(o) * k2 + t) * c.cin + i] = src[(static_cast<size_t>(o) * c.cin + i) * k2 + t];
}

void OhwiToOihw(const Conv& c, const float* src, float* dst) {
  const int k2 = c.k * c.k;
  for (int o = 0; o < c.cout; ++o)
    for (int i = 0; i < c.cin; ++i)
      for (int t = 0; t < k2; ++t) dst[(static_cast<size_t>(o) * c.cin + i) * k2 + t] = src[(static_cast<size_t>(o) * k2 + t) * c.cin + i];
}

// Grows `v` to at least n values (never shrinks, so steps of one shape do not reallocate).
float* Scratch(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}

void EnsureShape(Tensor& t, const std::vector<int>& shape) {
  if (t.shape != shape) t.Resize(shape);
}

ops::BnRef RefOf(BN& bn) {
  return {bn.w.ptr(), bn.b.ptr(), bn.rm.ptr(), bn.rv.ptr(), &bn.nbt, bn.save_mean.data(), bn.save_invstd.data(), bn.gw.ptr(), bn.gb.ptr()};
}

// The fused train-mode chain of a block (ops/rep_chain.h); the ref arrays live in `refs`.
struct ChainRefs {
  ops::BnRef id[kDepth], bn1[kDepth];
  ops::Conv1x1Ref conv[kDepth];
  float* x[kDepth + 1];
  float* z[kDepth];
};
ops::RepChain MakeChain(Block& b, int64_t rows, ChainRefs& refs) {
  for (int i = 0; i < kDepth; ++i) {
    refs.id[i] = RefOf(b.id[i]);
    refs.bn1[i] = RefOf(b.bn1[i]);
    refs.conv[i] = {b.c1[i].w.ptr(), b.c1[i].b.ptr(), b.c1[i].gw.ptr(), b.c1[i].gb.ptr()};
    refs.z[i] = b.z[i].ptr();
  }
  for (int i = 0; i <= kDepth; ++i) refs.x[i] = b.x[i].ptr();
  ops::RepChain p;
  p.rows = rows;
  p.c = b.spec.out_c;
  p.depth = kDepth;
  p.n3 = RefOf(b.n3);
  p.dense = RefOf(b.dense);
  p.id = refs.id;
  p.bn1 = refs.bn1;
  p.conv = refs.conv;
  return p;
}

}  // namespace

struct Mbv2RepModel::Impl {
  Conv stem_conv;
  BN stem_bn;
  std::vector<Block> blocks;
  Tensor fc_w, fc_b, fc_gw, fc_gb;
  std::vector<Entry> entries;

  // Last forward.
  bool training = false;
  bool have_forward = false;
  Tensor input, stem_pre, stem_out, pooled, logits;
  // Scratch, sized to the largest activation.
  std::vector<float> tmp, d, g0, g1, dz, dd, chain_a, chain_b, dpooled;

  void BnForward(BN& bn, const ops::BatchNorm2dShape& s, const float* x, float* y) {
    if (training)
      ops::batchnorm2d_forward_train(s, x, bn.w.ptr(), bn.b.ptr(), y, bn.save_mean.data(), bn.save_invstd.data(), bn.rm.ptr(), bn.rv.ptr(),
                                     &bn.nbt);
    else
      ops::batchnorm2d_forward_eval(s, x, bn.w.ptr(), bn.b.ptr(), bn.rm.ptr(), bn.rv.ptr(), y);
  }

  // dgamma / dbeta are always overwritten; dx per `mode`.
  void BnBackward(BN& bn, const ops::BatchNorm2dShape& s, const float* x, const float* dy, float* dx, ops::GradMode mode) {
    if (mode == ops::GradMode::kAccumulate) {
      bn.gw.Fill(0.0f);
      bn.gb.Fill(0.0f);
    }
    if (training)
      ops::batchnorm2d_backward_train(s, x, bn.w.ptr(), bn.save_mean.data(), bn.save_invstd.data(), dy, dx, bn.gw.ptr(), bn.gb.ptr(), mode);
    else
      ops::batchnorm2d_backward_eval(s, x, bn.w.ptr(), bn.rm.ptr(), bn.rv.ptr(), dy, dx, bn.gw.ptr(), bn.gb.ptr(), mode);
  }

  // Eval-mode backward of a block's 1x1 chain, op by op: dout (gradient of the block's
  // ReLU output) -> dz (gradient of c3out). Train mode uses ops::rep_chain_backward_train.
  void ChainBackwardEval(Block& b, int n, const float* dout) {
    const int c = b.spec.out_c, hw = b.spec.out_hw;
    const int64_t numel = b.c3out.numel();
    const ops::BatchNorm2dShape bs{n, hw, hw, c};
    const ops::Conv2dShape s1 = ops::Conv1x1(n, hw, hw, c, c);
    const ops::GradMode kOver = ops::GradMode::kOverwrite, kAcc = ops::GradMode::kAccumulate;
    float* g = g0.data();      // gradient of x[i + 1]
    float* gprev = g1.data();  // gradient of x[i]
    ops::relu_backward(numel, b.x[kDepth].ptr(), dout, g, kOver);
    for (int i = kDepth - 1; i >= 0; --i) {
      // x[i+1] = bn1[i](conv1x1_i(x[i])) + id[i](x[i]) (+ d)
      BnBackward(b.bn1[i], bs, b.z[i].ptr(), g, dz.data(), kOver);
      ops::conv2d_backward(s1, b.x[i].ptr(), b.c1[i].w.ptr(), dz.data(), gprev, b.c1[i].gw.ptr(), b.c1[i].gb.ptr(), kOver);
      if (i > 0) ops::add_backward(numel, g, dd.data(), nullptr, i == kDepth - 1 ? kOver : kAcc);
      BnBackward(b.id[i], bs, b.x[i].ptr(), g, gprev, kAcc);
      std::swap(g, gprev);
    }
    // g: gradient of x[0] = n3(c3out), also the input of the dense BN.
    BnBackward(b.dense, bs, b.x[0].ptr(), dd.data(), g, kAcc);
    BnBackward(b.n3, bs, b.c3out.ptr(), g, dz.data(), kOver);
  }
};

Mbv2RepModel::Mbv2RepModel(const ArchConfig& config) : config_(config), impl_(std::make_unique<Impl>()) {
  auto spec = DescribeArch(config);
  if (!spec.ok()) throw std::invalid_argument(spec.status().message());
  spec_ = *spec;
  Impl& m = *impl_;
  m.stem_conv.Init(spec_.stem.in_c, spec_.stem.out_c, 3, false);
  m.stem_bn.Init(spec_.stem.out_c);
  m.blocks.resize(spec_.blocks.size());
  for (size_t bi = 0; bi < spec_.blocks.size(); ++bi) {
    Block& b = m.blocks[bi];
    b.spec = spec_.blocks[bi];
    const int c = b.spec.out_c;
    b.c3.Init(b.spec.in_c, c, 3, true);
    b.n3.Init(c);
    b.dense.Init(c);
    for (int i = 0; i < kDepth; ++i) {
      b.c1[i].Init(c, c, 1, true);
      b.bn1[i].Init(c);
      b.id[i].Init(c);
    }
  }
  const int fc_in = spec_.feature_channels, classes = config_.num_classes;
  m.fc_w.Resize({classes, fc_in});
  m.fc_gw.Resize({classes, fc_in});
  m.fc_b.Resize({classes});
  m.fc_gb.Resize({classes});

  // state_dict order (PyTorch's module order).
  auto conv = [&](const std::string& p, Conv& cv) {
    m.entries.push_back({p + ".weight", &cv.w, &cv.gw, nullptr, &cv});
    if (cv.has_bias) m.entries.push_back({p + ".bias", &cv.b, &cv.gb, nullptr, nullptr});
  };
  auto bn = [&](const std::string& p, BN& n) {
    m.entries.push_back({p + ".weight", &n.w, &n.gw, nullptr, nullptr});
    m.entries.push_back({p + ".bias", &n.b, &n.gb, nullptr, nullptr});
    m.entries.push_back({p + ".running_mean", &n.rm, nullptr, nullptr, nullptr});
    m.entries.push_back({p + ".running_var", &n.rv, nullptr, nullptr, nullptr});
    m.entries.push_back({p + ".num_batches_tracked", nullptr, nullptr, &n.nbt, nullptr});
  };
  conv("backbone.conv1.conv", m.stem_conv);
  bn("backbone.conv1.norm", m.stem_bn);
  for (Block& b : m.blocks) {
    const std::string p = "backbone." + b.spec.name;
    conv(p + ".conv3x3.conv", b.c3);
    bn(p + ".conv3x3.norm", b.n3);
    for (int i = 0; i < kDepth; ++i) {
      conv(p + ".conv." + std::to_string(i) + ".conv", b.c1[i]);
      bn(p + ".conv." + std::to_string(i) + ".norm", b.bn1[i]);
    }
    for (int i = 0; i < kDepth; ++i) bn(p + ".norm." + std::to_string(i), b.id[i]);
    bn(p + ".dense_norm", b.dense);
  }
  m.entries.push_back({"head.fc.weight", &m.fc_w, &m.fc_gw, nullptr, nullptr});
  m.entries.push_back({"head.fc.bias", &m.fc_b, &m.fc_gb, nullptr, nullptr});
}

Mbv2RepModel::~Mbv2RepModel() = default;

Status Mbv2RepModel::LoadStateDict(const StateDict& state) {
  // Check everything before changing anything.
  for (const Entry& e : impl_->entries) {
    auto it = state.find(e.name);
    if (e.nbt) {
      if (it != state.end() && it->second.size() != 1)
        return Status::Error("tensor " + e.name + " has " + std::to_string(it->second.size()) + " values, expected 1");
      // Converted to int64 below: NaN, inf or a negative count would be undefined or absurd.
      if (it != state.end() && !(it->second[0] >= 0 && it->second[0] <= 0x1p53f))
        return Status::Error("tensor " + e.name + " holds " + std::to_string(it->second[0]) + ", not a batch count");
      continue;
    }
    if (it == state.end()) return Status::Error("state dict has no tensor " + e.name);
    if (static_cast<int64_t>(it->second.size()) != e.value->numel())
      return Status::Error("tensor " + e.name + " has " + std::to_string(it->second.size()) + " values, expected " +
                           std::to_string(e.value->numel()));
  }
  for (Entry& e : impl_->entries) {
    auto it = state.find(e.name);
    if (e.nbt) {
      *e.nbt = it == state.end() ? 0 : static_cast<int64_t>(it->second[0]);
    } else if (e.conv) {
      OihwToOhwi(*e.conv, it->second.data(), e.value->ptr());
    } else {
      std::copy(it->second.begin(), it->second.end(), e.value->data.begin());
    }
  }
  return Status::Ok();
}

StateDict Mbv2RepModel::ToStateDict() const {
  StateDict state;
  for (const Entry& e : impl_->entries) {
    std::vector<float>& v = state[e.name];
    if (e.nbt) {
      v = {static_cast<float>(*e.nbt)};
    } else if (e.conv) {
      v.resize(e.value->data.size());
      OhwiToOihw(*e.conv, e.value->ptr(), v.data());
    } else {
      v = e.value->data;
    }
  }
  return state;
}

StateDict Mbv2RepModel::GradStateDict() const {
  StateDict grads;
  for (const Entry& e : impl_->entries) {
    if (!e.grad) continue;
    std::vector<float>& v = grads[e.name];
    if (e.conv) {
      v.resize(e.grad->data.size());
      OhwiToOihw(*e.conv, e.grad->ptr(), v.data());
    } else {
      v = e.grad->data;
    }
  }
  return grads;
}

std::vector<Mbv2RepModel::ParamRef> Mbv2RepModel::Parameters() {
  std::vector<ParamRef> out;
  for (Entry& e : impl_->entries)
    if (e.grad) out.push_back({e.name, e.value, e.grad});
  return out;
}

std::vector<std::string> Mbv2RepModel::ParameterNames() const {
  std::vector<std::string> out;
  for (const Entry& e : impl_->entries)
    if (e.grad) out.push_back(e.name);
  return out;
}

std::vector<std::string> Mbv2RepModel::BufferNames() const {
  std::vector<std::string> out;
  for (const Entry& e : impl_->entries)
    if (!e.grad) out.push_back(e.name);
  return out;
}

const Tensor& Mbv2RepModel::Forward(const Tensor& input, bool training) {
  Impl& m = *impl_;
  const ConvSpec& st = spec_.stem;
  if (input.rank() != 4 || input.dim(1) != st.in_hw || input.dim(2) != st.in_hw || input.dim(3) != st.in_c)
    throw std::invalid_argument("Mbv2RepModel::Forward: input " + ShapeToString(input.shape) + ", expected [N, " + std::to_string(st.in_hw) + ", " +
                                std::to_string(st.in_hw) + ", " + std::to_string(st.in_c) + "]");
  const int n = input.dim(0);
  if (n < 1) throw std::invalid_argument("Mbv2RepModel::Forward: empty batch");
  m.training = training;
  m.have_forward = false;
  EnsureShape(m.input, input.shape);
  std::copy(input.data.begin(), input.data.end(), m.input.data.begin());

  // Scratch sizes: the largest activation.
  int64_t max_act = int64_t{n} * st.out_hw * st.out_hw * st.out_c;
  for (const ConvSpec& b : spec_.blocks) max_act = std::max(max_act, int64_t{n} * b.out_hw * b.out_hw * b.out_c);
  for (auto* v : {&m.tmp, &m.d}) Scratch(*v, max_act);

  // Stem.
  const ops::Conv2dShape ss = ops::Conv3x3(n, st.in_hw, st.in_hw, st.in_c, st.out_c, st.stride);
  EnsureShape(m.stem_pre, {n, st.out_hw, st.out_hw, st.out_c});
  EnsureShape(m.stem_out, {n, st.out_hw, st.out_hw, st.out_c});
  ops::conv2d_forward(ss, m.input.ptr(), m.stem_conv.w.ptr(), nullptr, m.stem_pre.ptr());
  const ops::BatchNorm2dShape sbn{n, st.out_hw, st.out_hw, st.out_c};
  m.BnForward(m.stem_bn, sbn, m.stem_pre.ptr(), m.stem_out.ptr());
  ops::relu6_forward(m.stem_out.numel(), m.stem_out.ptr(), m.stem_out.ptr());

  const float* in = m.stem_out.ptr();
  for (Block& b : m.blocks) {
    const ConvSpec& s = b.spec;
    const int c = s.out_c, hw = s.out_hw;
    const std::vector<int> shape{n, hw, hw, c};
    EnsureShape(b.c3out, shape);
    for (Tensor& t : b.x) EnsureShape(t, shape);
    for (Tensor& t : b.z) EnsureShape(t, shape);
    const int64_t numel = b.c3out.numel();
    const ops::BatchNorm2dShape bs{n, hw, hw, c};
    ops::conv2d_forward(ops::Conv3x3(n, s.in_hw, s.in_hw, s.in_c, c, s.stride), in, b.c3.w.ptr(), b.c3.b.ptr(), b.c3out.ptr());
    if (training) {  // the whole 1x1 chain in a few fused passes
      ChainRefs refs;
      ops::rep_chain_forward_train(MakeChain(b, int64_t{n} * hw * hw, refs), b.c3out.ptr(), refs.x, refs.z);
      in = b.x[kDepth].ptr();
      continue;
    }
    m.BnForward(b.n3, bs, b.c3out.ptr(), b.x[0].ptr());
    m.BnForward(b.dense, bs, b.x[0].ptr(), m.d.data());
    const ops::Conv2dShape s1 = ops::Conv1x1(n, hw, hw, c, c);
    for (int i = 0; i < kDepth; ++i) {
      float* y = b.x[i + 1].ptr();
      m.BnForward(b.id[i], bs, b.x[i].ptr(), y);
      if (i > 0) ops::add_forward(numel, y, m.d.data(), y);
      ops::conv2d_forward(s1, b.x[i].ptr(), b.c1[i].w.ptr(), b.c1[i].b.ptr(), b.z[i].ptr());
      m.BnForward(b.bn1[i], bs, b.z[i].ptr(), m.tmp.data());
      ops::add_forward(numel, m.tmp.data(), y, y);
    }
    ops::relu_forward(numel, b.x[kDepth].ptr(), b.x[kDepth].ptr());
    in = b.x[kDepth].ptr();
  }

  // Head.
  const int fc_in = spec_.feature_channels, classes = config_.num_classes;
  const int fhw = spec_.blocks.empty() ? st.out_hw : spec_.blocks.back().out_hw;
  EnsureShape(m.pooled, {n, fc_in});
  EnsureShape(m.logits, {n, classes});
  ops::global_avg_pool_forward(n, fhw, fhw, fc_in, in, m.pooled.ptr());
  ops::linear_forward(n, fc_in, classes, m.pooled.ptr(), m.fc_w.ptr(), m.fc_b.ptr(), m.logits.ptr());
  m.have_forward = true;
  return m.logits;
}

const Tensor& Mbv2RepModel::features() const {
  if (!impl_->have_forward) throw std::logic_error("Mbv2RepModel::features without a Forward");
  return impl_->pooled;
}

void Mbv2RepModel::Backward(const Tensor& dlogits, const Tensor* dfeatures) {
  Impl& m = *impl_;
  if (!m.have_forward) throw std::logic_error("Mbv2RepModel::Backward without a Forward");
  if (dlogits.shape != m.logits.shape)
    throw std::invalid_argument("Mbv2RepModel::Backward: dlogits " + ShapeToString(dlogits.shape) + ", expected " + ShapeToString(m.logits.shape));
  if (dfeatures && dfeatures->shape != m.pooled.shape)
    throw std::invalid_argument("Mbv2RepModel::Backward: dfeatures " + ShapeToString(dfeatures->shape) + ", expected " + ShapeToString(m.pooled.shape));
  const ConvSpec& st = spec_.stem;
  const int n = m.logits.dim(0);
  const ops::GradMode kOver = ops::GradMode::kOverwrite;
  int64_t max_act = m.stem_out.numel();
  for (const Block& b : m.blocks) max_act = std::max(max_act, b.c3out.numel());
  for (auto* v : {&m.g0, &m.g1, &m.dz, &m.dd, &m.chain_a, &m.chain_b}) Scratch(*v, max_act);

  // Head.
  const int fc_in = spec_.feature_channels, classes = config_.num_classes;
  const int fhw = spec_.blocks.empty() ? st.out_hw : spec_.blocks.back().out_hw;
  Scratch(m.dpooled, int64_t{n} * fc_in);
  ops::linear_backward(n, fc_in, classes, m.pooled.ptr(), m.fc_w.ptr(), dlogits.ptr(), m.dpooled.data(), m.fc_gw.ptr(), m.fc_gb.ptr(), kOver);
  if (dfeatures)
    for (int64_t i = 0; i < int64_t{n} * fc_in; ++i) m.dpooled[static_cast<size_t>(i)] += dfeatures->data[static_cast<size_t>(i)];
  float* dout = m.chain_a.data();  // gradient of the current block's output
  float* din = m.chain_b.data();
  ops::global_avg_pool_backward(n, fhw, fhw, fc_in, m.dpooled.data(), dout, kOver);

  for (size_t bi = m.blocks.size(); bi-- > 0;) {
    Block& b = m.blocks[bi];
    const ConvSpec& s = b.spec;
    const int c = s.out_c, hw = s.out_hw;
    if (m.training) {
      ChainRefs refs;
      // The chain's last pass also sums dz into the 3x3 conv's bias gradient.
      ops::rep_chain_backward_train(MakeChain(b, int64_t{n} * hw * hw, refs), b.c3out.ptr(), refs.x, refs.z, dout, m.dz.data(), b.c3.gb.ptr(),
                                    m.g0.data(), m.g1.data(), m.dd.data());
    } else {
      m.ChainBackwardEval(b, n, dout);
    }
    const float* block_in = bi == 0 ? m.stem_out.ptr() : m.blocks[bi - 1].x[kDepth].ptr();
    ops::conv2d_backward(ops::Conv3x3(n, s.in_hw, s.in_hw, s.in_c, c, s.stride), block_in, b.c3.w.ptr(), m.dz.data(), din, b.c3.gw.ptr(),
                         m.training ? nullptr : b.c3.gb.ptr(), kOver);
    std::swap(dout, din);
  }

  // Stem.
  const int64_t snumel = m.stem_out.numel();
  ops::relu6_backward(snumel, m.stem_out.ptr(), dout, m.dz.data(), kOver);
  m.BnBackward(m.stem_bn, {n, st.out_hw, st.out_hw, st.out_c}, m.stem_pre.ptr(), m.dz.data(), m.g0.data(), kOver);
  ops::conv2d_backward(ops::Conv3x3(n, st.in_hw, st.in_hw, st.in_c, st.out_c, st.stride), m.input.ptr(), m.stem_conv.w.ptr(), m.g0.data(),
                       nullptr, m.stem_conv.gw.ptr(), nullptr, kOver);
}

}  // namespace personcls
