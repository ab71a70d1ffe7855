// The fused train-mode RepConv1x1 chain (ops/rep_chain.h) against the same chain built from
// the unfused ops (batchnorm2d, conv2d 1x1, add, relu: each checked against double oracles
// and finite differences in ops_grad_test.cc): every output, saved statistic, running
// statistic and gradient, for several widths and depths, with one and many chunks; and
// bit-identical results for 1 and 2 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/ops.h"
#include "ops/rep_chain.h"
#include "test_util.h"

namespace personcls::ops {
namespace {

using Vec = std::vector<float>;

struct Bn {
  Vec gamma, beta, rm, rv, mean, invstd, dgamma, dbeta;
  int64_t nbt = 3;
  explicit Bn(int c, std::mt19937& rng) : mean(c), invstd(c), dgamma(c), dbeta(c) {
    std::uniform_real_distribution<float> u(0.5f, 1.5f), v(-0.5f, 0.5f);
    for (int i = 0; i < c; ++i) gamma.push_back(u(rng)), beta.push_back(v(rng)), rm.push_back(v(rng)), rv.push_back(u(rng));
  }
  BnRef Ref() { return {gamma.data(), beta.data(), rm.data(), rv.data(), &nbt, mean.data(), invstd.data(), dgamma.data(), dbeta.data()}; }
  void Forward(const BatchNorm2dShape& s, const float* x, float* y) {
    batchnorm2d_forward_train(s, x, gamma.data(), beta.data(), y, mean.data(), invstd.data(), rm.data(), rv.data(), &nbt);
  }
  void Backward(const BatchNorm2dShape& s, const float* x, const float* dy, float* dx, GradMode mode) {
    batchnorm2d_backward_train(s, x, gamma.data(), mean.data(), invstd.data(), dy, dx, dgamma.data(), dbeta.data(), mode);
  }
};

struct Conv {
  Vec w, b, dw, db;
  Conv(int c, std::mt19937& rng) : dw(size_t(c) * c), db(c) {
    std::normal_distribution<float> n(0.0f, 1.0f / std::sqrt(static_cast<float>(c)));
    for (int i = 0; i < c * c; ++i) w.push_back(n(rng));
    for (int i = 0; i < c; ++i) b.push_back(n(rng));
  }
};

// One chain's parameters, inputs, activations and gradients.
struct Chain {
  int n, hw, c, depth;
  int64_t rows;
  Bn n3, dense;
  std::vector<Bn> id, bn1;
  std::vector<Conv> conv;
  Vec c3out, dout, dc3, dbias;
  std::vector<Vec> x, z;
  Chain(int n_, int hw_, int c_, int depth_, uint32_t seed)
      : n(n_), hw(hw_), c(c_), depth(depth_), rows(int64_t{n_} * hw_ * hw_), n3(c_, Rng(seed)), dense(c_, Rng(seed + 1)) {
    std::mt19937 rng(seed + 2);
    for (int i = 0; i < depth; ++i) id.emplace_back(c, rng), bn1.emplace_back(c, rng), conv.emplace_back(c, rng);
    std::normal_distribution<float> nd(0.3f, 2.0f);  // off-centre, as a conv output is
    for (int64_t i = 0; i < rows * c; ++i) c3out.push_back(nd(rng)), dout.push_back(nd(rng));
    x.assign(depth + 1, Vec(rows * c));
    z.assign(depth, Vec(rows * c));
    dc3.assign(rows * c, 0.0f);
    dbias.assign(c, 0.0f);
  }
  static std::mt19937& Rng(uint32_t seed) {
    thread_local std::mt19937 r;
    r.seed(seed);
    return r;
  }

  void RunFused() {
    std::vector<BnRef> idr, b1r;
    std::vector<Conv1x1Ref> cr;
    for (int i = 0; i < depth; ++i) {
      idr.push_back(id[i].Ref()), b1r.push_back(bn1[i].Ref());
      cr.push_back({conv[i].w.data(), conv[i].b.data(), conv[i].dw.data(), conv[i].db.data()});
    }
    RepChain p;
    p.rows = rows, p.c = c, p.depth = depth, p.n3 = n3.Ref(), p.dense = dense.Ref(), p.id = idr.data(), p.bn1 = b1r.data(), p.conv = cr.data();
    std::vector<float*> xp, zp;
    for (Vec& v : x) xp.push_back(v.data());
    for (Vec& v : z) zp.push_back(v.data());
    rep_chain_forward_train(p, c3out.data(), xp.data(), zp.data());
    Vec g0(rows * c), g1(rows * c), dd(rows * c);
    rep_chain_backward_train(p, c3out.data(), xp.data(), zp.data(), dout.data(), dc3.data(), dbias.data(), g0.data(), g1.data(), dd.data());
  }

  // The chain op by op (what Mbv2RepModel did before the fusion).
  void RunUnfused() {
    const BatchNorm2dShape bs{n, hw, hw, c};
    const Conv2dShape s1 = Conv1x1(n, hw, hw, c, c);
    const int64_t numel = rows * c;
    Vec d(numel), t(numel);
    n3.Forward(bs, c3out.data(), x[0].data());
    dense.Forward(bs, x[0].data(), d.data());
    for (int i = 0; i < depth; ++i) {
      float* y = x[i + 1].data();
      id[i].Forward(bs, x[i].data(), y);
      if (i > 0) add_forward(numel, y, d.data(), y);
      conv2d_forward(s1, x[i].data(), conv[i].w.data(), conv[i].b.data(), z[i].data());
      bn1[i].Forward(bs, z[i].data(), t.data());
      add_forward(numel, t.data(), y, y);
    }
    relu_forward(numel, x[depth].data(), x[depth].data());

    Vec g(numel), gprev(numel), dz(numel), dd(numel, 0.0f);
    relu_backward(numel, x[depth].data(), dout.data(), g.data(), GradMode::kOverwrite);
    for (int i = depth - 1; i >= 0; --i) {
      bn1[i].Backward(bs, z[i].data(), g.data(), dz.data(), GradMode::kOverwrite);
      conv2d_backward(s1, x[i].data(), conv[i].w.data(), dz.data(), gprev.data(), conv[i].dw.data(), conv[i].db.data(), GradMode::kOverwrite);
      if (i > 0) add_backward(numel, g.data(), dd.data(), nullptr, GradMode::kAccumulate);
      std::fill(id[i].dgamma.begin(), id[i].dgamma.end(), 0.0f);
      std::fill(id[i].dbeta.begin(), id[i].dbeta.end(), 0.0f);
      id[i].Backward(bs, x[i].data(), g.data(), gprev.data(), GradMode::kAccumulate);
      std::swap(g, gprev);
    }
    std::fill(dense.dgamma.begin(), dense.dgamma.end(), 0.0f);
    std::fill(dense.dbeta.begin(), dense.dbeta.end(), 0.0f);
    dense.Backward(bs, x[0].data(), dd.data(), g.data(), GradMode::kAccumulate);
    n3.Backward(bs, c3out.data(), g.data(), dc3.data(), GradMode::kOverwrite);
    for (int64_t r = 0; r < rows; ++r)  // the 3x3 conv's bias gradient: column sums of dc3
      for (int i = 0; i < c; ++i) dbias[i] += dc3[r * c + i];
  }

  // Every tensor the chain writes, by name.
  std::vector<std::pair<std::string, const Vec*>> Outputs() const {
    std::vector<std::pair<std::string, const Vec*>> out;
    auto bn = [&](const std::string& name, const Bn& b) {
      for (auto [k, v] : {std::pair{"mean", &b.mean}, {"invstd", &b.invstd}, {"running_mean", &b.rm}, {"running_var", &b.rv}, {"dgamma", &b.dgamma},
                          {"dbeta", &b.dbeta}})
        out.push_back({name + "." + k, v});
    };
    bn("n3", n3);
    bn("dense", dense);
    for (int i = 0; i < depth; ++i) {
      const std::string s = std::to_string(i);
      bn("id" + s, id[i]);
      bn("bn1_" + s, bn1[i]);
      out.push_back({"dw" + s, &conv[i].dw});
      out.push_back({"db" + s, &conv[i].db});
      out.push_back({"z" + s, &z[i]});
    }
    for (int i = 0; i <= depth; ++i) out.push_back({"x" + std::to_string(i), &x[i]});
    out.push_back({"dc3out", &dc3});
    out.push_back({"c3_bias_grad", &dbias});
    return out;
  }
};

struct Case {
  int n, hw, c, depth, chunk;  // chunk: Tuning::rep_chain_rows_per_chunk (0 = auto)
};

class RepChainTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    threads_ = omp_get_max_threads();
    Tuning t;
    t.rep_chain_rows_per_chunk = GetParam().chunk;
    SetTuning(t);
  }
  void TearDown() override {
    omp_set_num_threads(threads_);
    SetTuning(Tuning{});
  }
  int threads_ = 1;
};

TEST_P(RepChainTest, MatchesUnfusedOps) {
  const Case& k = GetParam();
  const uint32_t seed = personcls::testing::TestSeed() + k.c * 7 + k.depth;
  PCLS_SEED_TRACE(seed);
  Chain fused(k.n, k.hw, k.c, k.depth, seed), ref(k.n, k.hw, k.c, k.depth, seed);
  fused.RunFused();
  ref.RunUnfused();
  EXPECT_EQ(fused.n3.nbt, ref.n3.nbt);
  EXPECT_EQ(fused.dense.nbt, ref.dense.nbt);
  const auto a = fused.Outputs(), b = ref.Outputs();
  ASSERT_EQ(a.size(), b.size());
  // Activation-scale tolerance: the fused chain takes its statistics in one pass and adds
  // gradients in another order, so it differs in the last float bits; a bias gradient is
  // a sum of BN-backward values that cancels to ~0, hence the absolute floor.
  for (size_t t = 0; t < a.size(); ++t) {
    const Vec &got = *a[t].second, &want = *b[t].second;
    ASSERT_EQ(got.size(), want.size()) << a[t].first;
    double scale = 0, worst = 0;
    for (float v : want) scale = std::max(scale, std::fabs(static_cast<double>(v)));
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
    EXPECT_LE(worst, 2e-5 * scale + 2e-5) << a[t].first << " (max |ref| " << scale << ")";
  }
}

TEST_P(RepChainTest, ThreadsBitIdentical) {
  const Case& k = GetParam();
  const uint32_t seed = personcls::testing::TestSeed() + k.c;
  PCLS_SEED_TRACE(seed);
  Chain one(k.n, k.hw, k.c, k.depth, seed), two(k.n, k.hw, k.c, k.depth, seed);
  omp_set_num_threads(1);
  one.RunFused();
  omp_set_num_threads(2);
  two.RunFused();
  const auto a = one.Outputs(), b = two.Outputs();
  for (size_t t = 0; t < a.size(); ++t)
    EXPECT_EQ(std::memcmp(a[t].second->data(), b[t].second->data(), a[t].second->size() * sizeof(float)), 0) << a[t].first << " differs";
}

INSTANTIATE_TEST_SUITE_P(Shapes, RepChainTest,
                         ::testing::Values(Case{2, 7, 5, 1, 0},     // depth 1: the dense BN is unused
                                           Case{3, 5, 3, 2, 7},     // odd sizes, many chunks, last one short
                                           Case{2, 9, 16, 6, 0},    // one chunk, SSCMA depth
                                           Case{4, 12, 16, 6, 30},  // many chunks
                                           Case{2, 6, 37, 3, 12}),  // C not a multiple of 8 or 16
                         [](const ::testing::TestParamInfo<Case>& i) {
                           const Case& k = i.param;
                           return "n" + std::to_string(k.n) + "_hw" + std::to_string(k.hw) + "_c" + std::to_string(k.c) + "_depth" +
                                  std::to_string(k.depth) + "_chunk" + std::to_string(k.chunk);
                         });

}  // namespace
}  // namespace personcls::ops
