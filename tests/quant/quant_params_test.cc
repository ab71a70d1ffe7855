// Quantization parameter choice: activation nudging, symmetric per-channel weights, bias.
#include "quant/quant_params.h"

#include <cmath>
#include <random>

#include "test_util.h"

namespace personcls::quant {
namespace {

TEST(ChooseActivationQuant, KnownRanges) {
  AffineQuant relu6 = ChooseActivationQuant(0.0f, 6.0f);
  EXPECT_FLOAT_EQ(relu6.scale, 6.0f / 255.0f);
  EXPECT_EQ(relu6.zero_point, -128);
  // [-1, 1]: the real zero point is -0.5, nudged (rounded half away from zero) to -1.
  AffineQuant sym = ChooseActivationQuant(-1.0f, 1.0f);
  EXPECT_FLOAT_EQ(sym.scale, 2.0f / 255.0f);
  EXPECT_EQ(sym.zero_point, -1);
  // A range without 0 is widened to contain it.
  AffineQuant pos = ChooseActivationQuant(2.0f, 5.1f);
  EXPECT_FLOAT_EQ(pos.scale, 5.1f / 255.0f);
  EXPECT_EQ(pos.zero_point, -128);
  AffineQuant neg = ChooseActivationQuant(-3.0f, -1.0f);
  EXPECT_FLOAT_EQ(neg.scale, 3.0f / 255.0f);
  EXPECT_EQ(neg.zero_point, 127);
  // A constant-zero tensor still gets a usable scale.
  AffineQuant zero = ChooseActivationQuant(0.0f, 0.0f);
  EXPECT_GT(zero.scale, 0.0f);
  EXPECT_EQ(zero.zero_point, -128);
}

TEST(ChooseActivationQuant, NudgedGridCoversRangeAndHitsZero) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-20.0f, 20.0f);
  for (int i = 0; i < 1000; ++i) {
    float a = u(rng), b = u(rng);
    if (a > b) std::swap(a, b);
    const AffineQuant q = ChooseActivationQuant(a, b);
    const double lo = std::min(0.0f, a), hi = std::max(0.0f, b);
    ASSERT_NEAR(q.scale, (hi - lo) / 255.0, 1e-6 * (hi - lo));
    ASSERT_GE(q.zero_point, -128);
    ASSERT_LE(q.zero_point, 127);
    // Real 0 is the integer zero point; the grid ends move by at most half a step.
    const double dq_min = (-128 - q.zero_point) * static_cast<double>(q.scale);
    const double dq_max = (127 - q.zero_point) * static_cast<double>(q.scale);
    ASSERT_LE(std::abs(dq_min - lo), 0.5 * q.scale + 1e-6) << a << " " << b;
    ASSERT_LE(std::abs(dq_max - hi), 0.5 * q.scale + 1e-6) << a << " " << b;
  }
}

TEST(QuantizeSymmetric, PerOutputChannelOhwi) {
  // [2, 1, 2, 2] OHWI: channel 0 has max |w| 1.27, channel 1 is all zero.
  const std::vector<float> w = {1.27f, -0.635f, 0.01f, -1.27f, 0, 0, 0, 0};
  SymmetricWeights q = QuantizeSymmetric(w.data(), {2, 1, 2, 2}, 0);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_FLOAT_EQ(q.scales[0], 0.01f);
  EXPECT_FLOAT_EQ(q.scales[1], 1.0f);
  EXPECT_EQ(q.values, (std::vector<int8_t>{127, -64, 1, -127, 0, 0, 0, 0}));  // -63.5 rounds away from 0
}

TEST(QuantizeSymmetric, DepthwiseAxis3AndPerTensor) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const std::vector<int32_t> shape = {1, 3, 3, 5};  // 1HWC, channel innermost
  std::vector<float> w(45);
  for (size_t i = 0; i < w.size(); ++i) w[i] = n(rng) * static_cast<float>(i % 5 + 1);
  SymmetricWeights q = QuantizeSymmetric(w.data(), shape, 3);
  ASSERT_EQ(q.scales.size(), 5u);
  for (int c = 0; c < 5; ++c) {
    float max_abs = 0;
    int max_q = 0;
    for (int i = c; i < 45; i += 5) {
      max_abs = std::max(max_abs, std::abs(w[i]));
      max_q = std::max(max_q, std::abs(static_cast<int>(q.values[i])));
      EXPECT_LE(std::abs(q.values[i] * q.scales[c] - w[i]), 0.5f * q.scales[c] * 1.0001f);
    }
    EXPECT_FLOAT_EQ(q.scales[c], max_abs / 127.0f);
    EXPECT_EQ(max_q, 127);
  }
  SymmetricWeights t = QuantizeSymmetric(w.data(), shape, -1);
  ASSERT_EQ(t.scales.size(), 1u);
  for (int8_t v : t.values) EXPECT_GE(v, -127);
}

TEST(QuantizeBias, ScaleIsInputTimesWeightScale) {
  const std::vector<float> b = {0.5f, -0.25f, 1e9f};
  std::vector<float> scales;
  std::vector<int32_t> q = QuantizeBias(b.data(), 3, 0.02f, {0.01f, 0.001f, 1e-6f}, &scales);
  ASSERT_EQ(scales.size(), 3u);
  EXPECT_FLOAT_EQ(scales[0], 0.02f * 0.01f);
  EXPECT_FLOAT_EQ(scales[1], 0.02f * 0.001f);
  EXPECT_EQ(q[0], 2500);
  EXPECT_EQ(q[1], -12500);
  EXPECT_EQ(q[2], 2147483647);  // saturates
  std::vector<int32_t> one = QuantizeBias(b.data(), 2, 0.5f, {0.25f}, &scales);
  EXPECT_EQ(scales.size(), 1u);
  EXPECT_EQ(one, (std::vector<int32_t>{4, -2}));
}

}  // namespace
}  // namespace personcls::quant
