// Calibration ranges on known distributions: minmax, percentile and L2.
#include "quant/range_estimator.h"

#include <random>

#include "test_util.h"

namespace personcls::quant {
namespace {

RangeEstimator Estimate(const std::vector<float>& v, int bins = 2048) {
  RangeEstimator e;
  // Two halves, as two calibration images would arrive.
  const size_t half = v.size() / 2;
  e.ObserveMinMax(v.data(), half);
  e.ObserveMinMax(v.data() + half, v.size() - half);
  e.StartHistogram(bins);
  e.ObserveHistogram(v.data(), half);
  e.ObserveHistogram(v.data() + half, v.size() - half);
  return e;
}

TEST(RangeEstimator, MinMaxAndHistogramCount) {
  RangeEstimator e = Estimate({0.5f, -2.0f, 3.0f, 1.0f, 0.0f, 2.999f});
  EXPECT_EQ(e.min(), -2.0f);
  EXPECT_EQ(e.max(), 3.0f);
  uint64_t total = 0;
  for (uint64_t c : e.histogram()) total += c;
  EXPECT_EQ(total, 6u);
  EXPECT_EQ(e.histogram().back(), 2u);  // 3.0 lands in the last bin, not past it
}

TEST(RangeEstimator, PercentileOfUniform) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(200000);
  for (float& x : v) x = u(rng);
  RangeEstimator e = Estimate(v);
  float lo, hi;
  e.PercentileRange(99.0, &lo, &hi);
  EXPECT_NEAR(lo, -0.98f, 0.005f);
  EXPECT_NEAR(hi, 0.98f, 0.005f);
  e.PercentileRange(100.0, &lo, &hi);
  EXPECT_NEAR(lo, e.min(), 0.002f);
  EXPECT_NEAR(hi, e.max(), 0.002f);
  // Non-negative data (after ReLU): the lower bound stays 0.
  for (float& x : v) x = std::abs(x);
  RangeEstimator p = Estimate(v);
  p.PercentileRange(90.0, &lo, &hi);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_NEAR(hi, 0.9f, 0.005f);
}

TEST(RangeEstimator, L2TradesClippingAgainstResolution) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  // 1M samples of N(0, 1) plus outliers at +60 and -55. The expected squared error of a
  // range [-a, b] is about (60-b)^2 + (55-a)^2 + N (a+b)^2 / (255^2 12) (the bulk lies well
  // inside); its minimum, with k = N / (255^2 12) = 1.28, is at a + b = 115 / (1 + 2k) = 32.3,
  // b = 60 - k (a+b) = 18.6, a = 13.6: L2 clips both outliers part of the way.
  std::vector<float> v(1000000);
  for (float& x : v) x = n(rng);
  v[10] = 60.0f;
  v[20] = -55.0f;
  RangeEstimator e = Estimate(v);
  float lo, hi;
  e.L2Range(&lo, &hi);
  EXPECT_NEAR(hi, 18.6f, 1.0f);
  EXPECT_NEAR(lo, -13.6f, 1.0f);
  // With 100x fewer samples the grid error is cheap and keeping the outliers wins.
  v.resize(10000);
  RangeEstimator few = Estimate(v);
  few.L2Range(&lo, &hi);
  EXPECT_GT(hi, 50.0f);

  std::uniform_real_distribution<float> u(0.0f, 4.0f);
  for (float& x : v) x = u(rng);
  RangeEstimator f = Estimate(v);
  f.L2Range(&lo, &hi);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_GT(hi, 3.9f);  // uniform data: clipping anything costs more than it saves
}

TEST(RangeEstimator, AllZeroTensor) {
  RangeEstimator e = Estimate(std::vector<float>(100, 0.0f));
  float lo, hi;
  e.L2Range(&lo, &hi);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 0.0f);
  e.PercentileRange(99.9, &lo, &hi);
  EXPECT_EQ(hi, 0.0f);
}

}  // namespace
}  // namespace personcls::quant
