// Fast AVERAGE_POOL_2D kernels (MakeFastS8AvgPool2d / MakeFastF32AvgPool2d,
// src/runtime/x86/pool2d_avx2.cc) against ref::s8_avgpool2d / ref::f32_avgpool2d on
// randomized data: both must match bit for bit (same summation order per lane; int8's
// rounding division done in float32 is exact below 2^16 taps). Shapes are odd and prime,
// channel counts cover full blocks of 8 and the scalar tail, windows partly in padding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "runtime/fast_kernel_tester.h"
#include "runtime/fast_kernels.h"
#include "runtime/ref/ref_kernels.h"
#include "test_util.h"

namespace personcls {
namespace {

using ::personcls::testing::FillGeometry;
using ::personcls::testing::GeometryString;
using ::personcls::testing::RandomClamp;
using ::personcls::testing::RandomFloat;
using ::personcls::testing::RandomInt8;
using ::personcls::testing::RunWithGuards;

class AvgPool2dFastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CpuHasAvx2Fma()) GTEST_SKIP() << "this CPU has no AVX2+FMA: the fast pooling kernels never run here";
  }
  uint32_t NextSeed() { return ::personcls::testing::TestSeed() + counter_++; }

  // One pooling shape, int8 and float32, with inputs from `seed`.
  void Check(int batch, int h, int w, int c, int kh, int kw, int sh, int sw, bool same, uint32_t seed, int lo = -128, int hi = 127) {
    ConvGeometry g;
    g.batch = batch;
    g.in_h = h;
    g.in_w = w;
    g.in_c = g.out_c = c;
    g.k_h = kh;
    g.k_w = kw;
    g.stride_h = sh;
    g.stride_w = sw;
    if (!FillGeometry(g, same)) return;
    if (g.pad_top >= g.k_h || g.pad_left >= g.k_w) return;  // prepare refuses these
    SCOPED_TRACE(GeometryString(g) + " seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const size_t in_n = size_t{1} * batch * h * w * c, out_n = size_t{1} * batch * g.out_h * g.out_w * c;

    const std::vector<int8_t> in8 = RandomInt8(rng, in_n, lo, hi);
    int a = std::uniform_int_distribution<int>(-128, 127)(rng), b = std::uniform_int_distribution<int>(-128, 127)(rng);
    const bool full_range = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
    const int32_t act_min = full_range ? -128 : std::min(a, b), act_max = full_range ? 127 : std::max(a, b);
    std::vector<int8_t> want8(out_n);
    ASSERT_TRUE(ref::s8_avgpool2d(g, act_min, act_max, in8.data(), want8.data()));
    auto k8 = MakeFastS8AvgPool2d(g, act_min, act_max);
    ASSERT_NE(k8, nullptr);
    EXPECT_EQ(k8->name(), "s8_avgpool2d_avx2");
    std::vector<int8_t> got8;
    RunWithGuards(*k8, in8.data(), out_n, 1, got8);
    for (size_t i = 0; i < out_n; ++i) ASSERT_EQ(got8[i], want8[i]) << "int8 output " << i << " (channel " << i % c << ")";

    std::vector<float> inf = RandomFloat(rng, in_n, -3.0f, 3.0f);
    if (in_n > 3) inf[in_n / 3] = std::numeric_limits<float>::quiet_NaN();  // propagates as in the reference
    const F32Clamp clamp = RandomClamp(rng);
    std::vector<float> wantf(out_n);
    ASSERT_TRUE(ref::f32_avgpool2d(g, clamp, inf.data(), wantf.data()));
    auto kf = MakeFastF32AvgPool2d(g, clamp);
    ASSERT_NE(kf, nullptr);
    std::vector<float> gotf;
    RunWithGuards(*kf, inf.data(), out_n, 1, gotf);
    for (size_t i = 0; i < out_n; ++i) {
      uint32_t gb, wb;
      std::memcpy(&gb, &gotf[i], 4);
      std::memcpy(&wb, &wantf[i], 4);
      if (std::isnan(wantf[i])) {
        ASSERT_TRUE(std::isnan(gotf[i])) << "float output " << i;
      } else {
        ASSERT_EQ(gb, wb) << "float output " << i << ": " << gotf[i] << " vs reference " << wantf[i];
      }
    }
  }

 private:
  uint32_t counter_ = 0;
};

TEST_F(AvgPool2dFastTest, SweepMatchesReferenceBitForBit) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  for (int c : {1, 7, 8, 9, 17, 32, 37}) {
    for (int k : {2, 3, 5}) {
      for (int s : {1, 2, 3}) {
        for (bool same : {false, true}) {
          Check(1, 11, 7, c, k, k, s, s, same, NextSeed());
          if (HasFatalFailure()) return;
        }
      }
    }
  }
  Check(2, 13, 5, 19, 3, 2, 2, 1, true, NextSeed());  // batch 2, non-square window and strides
  Check(1, 7, 11, 24, 1, 4, 1, 3, false, NextSeed());
}

TEST_F(AvgPool2dFastTest, GlobalPoolsOfModelShapes) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  Check(1, 3, 3, 256, 3, 3, 1, 1, false, NextSeed());  // MLPerf Tiny VWW's last pool
  Check(1, 6, 6, 128, 6, 6, 1, 1, false, NextSeed());
  Check(1, 23, 29, 13, 23, 29, 1, 1, false, NextSeed());  // 667 taps
}

TEST_F(AvgPool2dFastTest, RoundingTiesAndSaturatedInputs) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  // Values in {-1, 0} and {0, 1} over 2 and 4 taps make many exact halves (ties round away
  // from zero); all -128 or all 127 are the sums' extremes.
  for (auto [lo, hi] : {std::pair{-1, 0}, std::pair{0, 1}, std::pair{-128, -128}, std::pair{127, 127}, std::pair{-2, 2}}) {
    Check(1, 8, 8, 16, 2, 2, 2, 2, false, NextSeed(), lo, hi);
    Check(1, 9, 9, 16, 2, 2, 1, 1, true, NextSeed(), lo, hi);
    if (HasFatalFailure()) return;
  }
}

TEST_F(AvgPool2dFastTest, Int8WindowsOf65536TapsOrMoreUseTheReference) {
  ConvGeometry g;
  g.in_h = g.k_h = 256;
  g.in_w = g.k_w = 256;
  g.in_c = g.out_c = 1;
  g.out_h = g.out_w = 1;
  EXPECT_EQ(MakeFastS8AvgPool2d(g, -128, 127), nullptr) << "2^16 taps: the float32 division is no longer provably exact";
  g.k_w = g.in_w = 255;
  EXPECT_NE(MakeFastS8AvgPool2d(g, -128, 127), nullptr);
}

}  // namespace
}  // namespace personcls
