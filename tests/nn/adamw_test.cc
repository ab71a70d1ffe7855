// AdamW (src/nn/optimizer) against the update rule computed by hand in double, step by
// step, with PyTorch's bias corrections and decoupled weight decay.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "nn/optimizer.h"
#include "test_util.h"

namespace personcls {
namespace {

TEST(AdamW, MatchesHandComputedUpdatesOverSeveralSteps) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const AdamWOptions o{0.9, 0.999, 1e-8, 0.05};
  AdamWOptimizer opt(o);
  Tensor a({2, 3}), ga({2, 3}), b({5}), gb({5});
  for (float& v : a.data) v = u(rng);
  for (float& v : b.data) v = u(rng);
  std::vector<double> pa(a.data.begin(), a.data.end()), pb(b.data.begin(), b.data.end());
  std::vector<double> ma(6, 0), va(6, 0), mb(5, 0), vb(5, 0);
  const std::vector<Mbv2RepModel::ParamRef> params = {{"a", &a, &ga}, {"b", &b, &gb}};
  auto hand = [&](std::vector<double>& p, std::vector<double>& m, std::vector<double>& v, const Tensor& g, double lr, int t) {
    for (size_t j = 0; j < p.size(); ++j) {
      p[j] *= 1 - lr * o.weight_decay;
      m[j] = o.beta1 * m[j] + (1 - o.beta1) * g.data[j];
      v[j] = o.beta2 * v[j] + (1 - o.beta2) * g.data[j] * g.data[j];
      const double m_hat = m[j] / (1 - std::pow(o.beta1, t)), v_hat = v[j] / (1 - std::pow(o.beta2, t));
      p[j] -= lr * m_hat / (std::sqrt(v_hat) + o.eps);
    }
  };
  for (int t = 1; t <= 6; ++t) {
    const double lr = 5e-3 * t;  // a changing lr, as under a schedule
    for (float& v : ga.data) v = u(rng) * (t == 3 ? 100.0f : 1.0f);
    for (float& v : gb.data) v = u(rng) * 1e-3f;
    gb.data[0] = 0.0f;
    opt.Step(params, lr);
    hand(pa, ma, va, ga, lr, t);
    hand(pb, mb, vb, gb, lr, t);
    for (int j = 0; j < 6; ++j) EXPECT_NEAR(a.data[j], pa[j], 1e-6 * (1 + std::fabs(pa[j]))) << "step " << t << " a[" << j << "]";
    for (int j = 0; j < 5; ++j) EXPECT_NEAR(b.data[j], pb[j], 1e-6 * (1 + std::fabs(pb[j]))) << "step " << t << " b[" << j << "]";
  }
  EXPECT_EQ(opt.step_count(), 6);
  ASSERT_EQ(opt.state().size(), 2u);
  EXPECT_EQ(opt.state()[1].name, "b");
}

TEST(AdamW, FirstStepMovesEachWeightByAboutLrAgainstItsGradientSign) {
  // t = 1: m_hat = g and sqrt(v_hat) = |g|, so the step is lr * sign(g) whatever |g| is.
  AdamWOptimizer opt(AdamWOptions{0.9, 0.999, 1e-8, 0.0});
  Tensor w({3}, 1.0f), g({3});
  g.data = {1e-3f, -50.0f, 2.0f};
  opt.Step({{"w", &w, &g}}, 0.1);
  EXPECT_NEAR(w.data[0], 0.9f, 1e-5f);
  EXPECT_NEAR(w.data[1], 1.1f, 1e-6f);
  EXPECT_NEAR(w.data[2], 0.9f, 1e-6f);
}

TEST(AdamW, WeightDecayIsDecoupledFromTheGradient) {
  // A zero gradient leaves m = v = 0: only the decay p *= (1 - lr * wd) acts.
  AdamWOptimizer opt(AdamWOptions{0.9, 0.999, 1e-8, 0.5});
  Tensor w({2}), g({2}, 0.0f);
  w.data = {2.0f, -4.0f};
  opt.Step({{"w", &w, &g}}, 0.1);
  opt.Step({{"w", &w, &g}}, 0.1);
  EXPECT_FLOAT_EQ(w.data[0], 2.0f * 0.95f * 0.95f);
  EXPECT_FLOAT_EQ(w.data[1], -4.0f * 0.95f * 0.95f);
}

TEST(AdamW, RejectsBadOptionsAndMismatchedParameters) {
  EXPECT_THROW(AdamWOptimizer(AdamWOptions{1.0, 0.999, 1e-8, 0.0}), std::invalid_argument);
  EXPECT_THROW(AdamWOptimizer(AdamWOptions{0.9, 0.999, 0.0, 0.0}), std::invalid_argument);
  EXPECT_THROW(AdamWOptimizer(AdamWOptions{0.9, 0.999, 1e-8, -1.0}), std::invalid_argument);
  AdamWOptimizer opt;
  Tensor w({2}), g({2}), g3({3});
  opt.Step({{"w", &w, &g}}, 0.1);
  EXPECT_THROW(opt.Step({{"v", &w, &g}}, 0.1), std::invalid_argument);
  EXPECT_THROW(opt.Step({{"w", &w, &g3}}, 0.1), std::invalid_argument);
  EXPECT_THROW(opt.Step({{"w", &w, &g}, {"x", &w, &g}}, 0.1), std::invalid_argument);
}

}  // namespace
}  // namespace personcls
