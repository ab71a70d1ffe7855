// The AVX2 requantization (src/runtime/x86/requant_avx2.h) against the scalar
// specification quant::MultiplyByQuantizedMultiplier, lane by lane, through both of its
// forms: the fused rounding that every right-shifting block takes, and TFLite's two-step
// form for the rest (a lane with a left shift or shift 0).
// Accumulators include the int32 extremes and values within a few units of each
// rounding's ties, where the two forms could part.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "runtime/fast_kernels.h"
#include "runtime/quant_math.h"
#include "runtime/requant_avx2_probe.h"
#include "test_util.h"

namespace personcls {
namespace {

using ::personcls::testing::RequantizeAvx2Probe;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

int32_t Clamp32(int64_t v) { return static_cast<int32_t>(v < kMin ? kMin : (v > kMax ? kMax : v)); }

// Accumulators near the ties of lane (m, shift): x * m / 2^31 within a few units of
// k + 1/2 (the first rounding), and the result within a few units of the second
// rounding's half (x * m / 2^(31+e) near k + 1/2), plus the extremes.
std::vector<int32_t> InterestingAccumulators(int32_t m, int shift, std::mt19937& rng) {
  std::vector<int32_t> v = {0, 1, -1, 2, -2, 3, -3, kMin, kMax, kMin + 1, kMax - 1, 1 << 20, -(1 << 20)};
  if (m == 0) return v;
  const int e = shift < 0 ? -shift : 0;
  const int left = shift > 0 ? shift : 0;
  std::uniform_int_distribution<int64_t> k_dist(-(int64_t{1} << 20), int64_t{1} << 20);
  for (int i = 0; i < 24; ++i) {
    const int64_t k = k_dist(rng) >> (i % 16);
    // Second rounding's tie: (x << left) * m ~ (k + 1/2) 2^(31+e).
    const long double tie2 = (static_cast<long double>(k) + 0.5L) * static_cast<long double>(int64_t{1} << 31) *
                             static_cast<long double>(int64_t{1} << e) / static_cast<long double>(m) /
                             static_cast<long double>(int64_t{1} << left);
    // First rounding's tie: (x << left) * m ~ (k + 1/2) 2^31.
    const long double tie1 =
        (static_cast<long double>(k) + 0.5L) * static_cast<long double>(int64_t{1} << 31) / static_cast<long double>(m) /
        static_cast<long double>(int64_t{1} << left);
    for (long double t : {tie1, tie2}) {
      // Ties beyond int32 (tiny multipliers) clamp to its ends before the cast.
      const long double bounded = std::min(std::max(t, static_cast<long double>(kMin) - 8), static_cast<long double>(kMax) + 8);
      for (int d = -3; d <= 3; ++d) v.push_back(Clamp32(static_cast<int64_t>(bounded) + d));
    }
  }
  std::uniform_int_distribution<int32_t> any(kMin, kMax);
  for (int i = 0; i < 16; ++i) v.push_back(any(rng));
  return v;
}

class RequantAvx2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CpuHasAvx2Fma()) GTEST_SKIP() << "this CPU has no AVX2+FMA: the AVX2 requantization never runs here";
  }

  // Checks every lane of the block (multiplier[j], shift[j]) over each lane's interesting
  // accumulators; returns whether the block took the fused-rounding form.
  bool CheckBlock(const int32_t (&multiplier)[8], const int32_t (&shift)[8], int32_t offset, std::mt19937& rng) {
    std::vector<int32_t> lanes[8];
    size_t rounds = 0;
    for (int j = 0; j < 8; ++j) {
      lanes[j] = InterestingAccumulators(multiplier[j], shift[j], rng);
      rounds = std::max(rounds, lanes[j].size());
    }
    bool fused = false;
    for (size_t r = 0; r < rounds; ++r) {
      int32_t acc[8], out[8];
      for (int j = 0; j < 8; ++j) acc[j] = lanes[j][r % lanes[j].size()];
      fused = RequantizeAvx2Probe(multiplier, shift, offset, acc, out);
      for (int j = 0; j < 8; ++j) {
        const int32_t want =
            quant::AddWrapping(quant::MultiplyByQuantizedMultiplier(acc[j], multiplier[j], shift[j]), offset);
        if (out[j] != want) {
          ADD_FAILURE() << "lane " << j << ": acc " << acc[j] << " multiplier " << multiplier[j] << " shift " << shift[j]
                        << " offset " << offset << (fused ? " (fused rounding)" : " (two roundings)") << ": got "
                        << out[j] << ", reference " << want;
          return fused;
        }
      }
    }
    return fused;
  }
};

TEST_F(RequantAvx2Test, EveryRightShiftTakesTheFusedRoundingAndMatchesTheReference) {
  const uint32_t seed = ::personcls::testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> normalized(1 << 30, kMax);
  std::uniform_int_distribution<int32_t> small(1, (1 << 30) - 1);
  for (int first = -31; first <= -1; ++first) {
    int32_t m[8], s[8];
    for (int j = 0; j < 8; ++j) {
      s[j] = -1 - (-first - 1 + j) % 31;  // 8 different right shifts in [1, 31] per block
      m[j] = normalized(rng);
    }
    m[first % 8 == 0 ? 1 : 0] = 1 << 30;  // the smallest normalized multiplier (p = -2^30 case)
    m[2] = kMax;
    m[3] = 0;
    m[4] = small(rng);  // below 2^30: p in [-2^30, 0) for more accumulators than -1
    m[5] = 1;
    EXPECT_TRUE(CheckBlock(m, s, std::uniform_int_distribution<int>(-128, 127)(rng), rng)) << "block from shift " << first;
    if (HasFailure()) return;
  }
}

TEST_F(RequantAvx2Test, LeftShiftsAndShiftZeroTakeTwoRoundingsAndMatch) {
  const uint32_t seed = ::personcls::testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> normalized(1 << 30, kMax);
  // One lane outside the fused-rounding form sends the whole block to the two-step form.
  for (int odd_lane = 0; odd_lane < 8; ++odd_lane) {
    for (int kind = 0; kind < 2; ++kind) {
      int32_t m[8], s[8];
      for (int j = 0; j < 8; ++j) {
        m[j] = normalized(rng);
        s[j] = -1 - j * 4;
      }
      if (kind == 0) s[odd_lane] = 0;
      if (kind == 1) s[odd_lane] = 1 + odd_lane * 4;  // left shifts up to 29
      EXPECT_FALSE(CheckBlock(m, s, std::uniform_int_distribution<int>(-128, 127)(rng), rng))
          << "lane " << odd_lane << " kind " << kind;
      if (HasFailure()) return;
    }
  }
  // Every lane left-shifting, with shift 31 (the reference's largest).
  int32_t m[8], s[8];
  for (int j = 0; j < 8; ++j) {
    m[j] = normalized(rng);
    s[j] = j == 7 ? 31 : j;
  }
  EXPECT_FALSE(CheckBlock(m, s, 0, rng));
}

TEST_F(RequantAvx2Test, ProductsJustBelowZeroRoundToZeroForEveryShift) {
  // p = x * m in [-2^30, 0) is where the fused-rounding form's sign test differs from the
  // reference's (h < 0); the result must still be 0 for every e >= 1.
  for (int e = 1; e <= 31; ++e) {
    int32_t m[8], s[8], acc[8], out[8];
    for (int j = 0; j < 8; ++j) {
      m[j] = j < 4 ? (1 << 30) >> j : 1 + j;  // 2^30 .. 2^27, then tiny
      s[j] = -e;
      acc[j] = j < 4 ? -(1 << j) : -12345 * j;  // p = -2^30 exactly, then small negatives
    }
    ASSERT_TRUE(RequantizeAvx2Probe(m, s, 0, acc, out));
    for (int j = 0; j < 8; ++j)
      EXPECT_EQ(out[j], quant::MultiplyByQuantizedMultiplier(acc[j], m[j], s[j])) << "e " << e << " acc " << acc[j];
  }
}

}  // namespace
}  // namespace personcls
