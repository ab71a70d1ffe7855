// soft_cross_entropy (the distillation loss): forward against a double-precision KL
// written here, gradients against central finite differences of that double reference
// (step 1e-4; tolerances of docs/TESTING.md), and its relation to the hard-label loss.
#include "ops/soft_cross_entropy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "ops/softmax_cross_entropy.h"
#include "test_util.h"

namespace personcls::ops {
namespace {

using DVec = std::vector<double>;

// T^2 / N * sum_n w_n * KL(q_n || softmax(z_n / T)), all in double.
double RefLoss(int n, int k, const DVec& z, const DVec& q, const DVec& w, double t) {
  double total = 0;
  for (int b = 0; b < n; ++b) {
    double zmax = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < k; ++j) zmax = std::max(zmax, z[b * k + j] / t);
    double sum = 0;
    for (int j = 0; j < k; ++j) sum += std::exp(z[b * k + j] / t - zmax);
    double kl = 0;
    for (int j = 0; j < k; ++j) {
      const double qj = q[b * k + j];
      if (qj > 0) kl += qj * (std::log(qj) - (z[b * k + j] / t - zmax - std::log(sum)));
    }
    total += w[b] * kl;
  }
  return total * t * t / n;
}

struct Case {
  int n, k;
  double temperature, logit_range;
  bool weighted, one_hot_rows;
};

class SoftCrossEntropy : public ::testing::TestWithParam<Case> {};

TEST_P(SoftCrossEntropy, ForwardAndFiniteDifferenceGradients) {
  const Case c = GetParam();
  const uint32_t seed = personcls::testing::TestSeed() ^ static_cast<uint32_t>(c.n * 131 + c.k * 7 + c.temperature * 10);
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), pos(0.0f, 1.0f);
  const int n = c.n, k = c.k;
  std::vector<float> z(n * k), q(n * k), w(n, 1.0f);
  for (float& v : z) v = static_cast<float>(c.logit_range) * u(rng);
  for (int b = 0; b < n; ++b) {
    double s = 0;
    for (int j = 0; j < k; ++j) s += q[b * k + j] = pos(rng);
    for (int j = 0; j < k; ++j) q[b * k + j] = static_cast<float>(q[b * k + j] / s);
    if (c.one_hot_rows && b % 2 == 0)  // rows with exact zeros exercise 0 log 0
      for (int j = 0; j < k; ++j) q[b * k + j] = j == b % k ? 1.0f : 0.0f;
    if (c.weighted) w[b] = b % 3 == 0 ? 0.0f : 2.0f * pos(rng);
  }
  const DVec zd(z.begin(), z.end()), qd(q.begin(), q.end()), wd(w.begin(), w.end());
  std::vector<float> probs(n * k);
  const float loss = soft_cross_entropy_forward(n, k, z.data(), q.data(), c.weighted ? w.data() : nullptr, c.temperature, probs.data());
  const double ref = RefLoss(n, k, zd, qd, wd, c.temperature);
  EXPECT_NEAR(loss, ref, 1e-6 + 1e-5 * std::fabs(ref));
  EXPECT_GE(loss, -1e-6f) << "KL is never negative";

  const float dloss = 0.75f;
  std::vector<float> g(n * k, std::numeric_limits<float>::quiet_NaN());  // kOverwrite never reads it
  soft_cross_entropy_backward(n, k, probs.data(), q.data(), c.weighted ? w.data() : nullptr, c.temperature, dloss, g.data(), GradMode::kOverwrite);
  const double h = 1e-4;
  for (int i = 0; i < n * k; ++i) {
    DVec zp = zd, zm = zd;
    zp[i] += h;
    zm[i] -= h;
    const double fd = dloss * (RefLoss(n, k, zp, qd, wd, c.temperature) - RefLoss(n, k, zm, qd, wd, c.temperature)) / (2 * h);
    EXPECT_NEAR(g[i], fd, 1e-4 + 1e-3 * std::fabs(fd)) << "logit " << i;
  }
  // kAccumulate adds the same gradient.
  std::vector<float> acc(n * k, 0.5f);
  soft_cross_entropy_backward(n, k, probs.data(), q.data(), c.weighted ? w.data() : nullptr, c.temperature, dloss, acc.data(), GradMode::kAccumulate);
  for (int i = 0; i < n * k; ++i) EXPECT_FLOAT_EQ(acc[i], 0.5f + g[i]);
}

INSTANTIATE_TEST_SUITE_P(Cases, SoftCrossEntropy,
                         ::testing::Values(Case{1, 1, 1.0, 3, false, false}, Case{1, 2, 1.0, 3, false, false}, Case{3, 2, 2.0, 3, true, false},
                                           Case{5, 3, 0.5, 3, false, true}, Case{4, 7, 4.0, 3, true, true}, Case{2, 5, 1.0, 60, false, true},
                                           Case{3, 17, 3.0, 2, true, false}));

TEST(SoftCrossEntropyFacts, OneHotTargetsAtT1EqualHardCrossEntropy) {
  const int n = 4, k = 3;
  const std::vector<float> z = {0.3f, -1.2f, 2.0f, 1.0f, 1.0f, 1.0f, -4.0f, 3.5f, 0.1f, 0.0f, 7.0f, -7.0f};
  const std::vector<int32_t> labels = {2, 0, 1, 1};
  std::vector<float> q(n * k, 0.0f);
  for (int b = 0; b < n; ++b) q[b * k + labels[b]] = 1.0f;
  std::vector<float> p_soft(n * k), p_hard(n * k), g_soft(n * k), g_hard(n * k);
  const float soft = soft_cross_entropy_forward(n, k, z.data(), q.data(), nullptr, 1.0f, p_soft.data());
  const float hard = softmax_cross_entropy_forward(n, k, z.data(), labels.data(), p_hard.data());
  EXPECT_FLOAT_EQ(soft, hard);
  soft_cross_entropy_backward(n, k, p_soft.data(), q.data(), nullptr, 1.0f, 1.0f, g_soft.data(), GradMode::kOverwrite);
  softmax_cross_entropy_backward(n, k, p_hard.data(), labels.data(), 1.0f, g_hard.data(), GradMode::kOverwrite);
  for (int i = 0; i < n * k; ++i) EXPECT_FLOAT_EQ(g_soft[i], g_hard[i]);
}

TEST(SoftCrossEntropyFacts, ZeroWhenStudentMatchesTargets) {
  // softmax(z / T) == q exactly when z = T * log q (+ a constant per row).
  const float t = 2.0f;
  const std::vector<float> q = {0.2f, 0.8f, 0.5f, 0.5f};
  std::vector<float> z(4);
  for (int i = 0; i < 4; ++i) z[i] = t * std::log(q[i]) + 3.0f;
  std::vector<float> p(4), g(4);
  EXPECT_NEAR(soft_cross_entropy_forward(2, 2, z.data(), q.data(), nullptr, t, p.data()), 0.0f, 1e-6f);
  soft_cross_entropy_backward(2, 2, p.data(), q.data(), nullptr, t, 1.0f, g.data(), GradMode::kOverwrite);
  for (float v : g) EXPECT_NEAR(v, 0.0f, 1e-6f);
}

TEST(SoftCrossEntropyFacts, RejectsBadArguments) {
  const std::vector<float> z = {0.0f, 1.0f}, q = {0.5f, 0.5f}, bad_q = {-0.5f, 1.5f}, bad_w = {-1.0f};
  EXPECT_THROW(soft_cross_entropy_forward(1, 2, z.data(), q.data(), nullptr, 0.0f, nullptr), std::invalid_argument);
  EXPECT_THROW(soft_cross_entropy_forward(1, 2, z.data(), bad_q.data(), nullptr, 1.0f, nullptr), std::invalid_argument);
  EXPECT_THROW(soft_cross_entropy_forward(1, 2, z.data(), q.data(), bad_w.data(), 1.0f, nullptr), std::invalid_argument);
  EXPECT_THROW(soft_cross_entropy_forward(0, 2, z.data(), q.data(), nullptr, 1.0f, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace personcls::ops
