// Integer requantization and gemmlowp fixed-point math (src/runtime/quant_math.h,
// src/runtime/fixed_point.h) against exact known values from
// docs/tflite-int8-semantics.md and against double-precision references.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "runtime/fixed_point.h"
#include "runtime/quant_math.h"
#include "test_util.h"

namespace personcls {
namespace {

using quant::ActivationRangeInt8;
using quant::MultiplyByQuantizedMultiplier;
using quant::QuantizeMultiplier;
using quant::RoundingDivideByPOT;
using quant::SaturatingRoundingDoublingHighMul;

constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();

// The real value of a (multiplier, shift) pair: multiplier * 2^(shift - 31).
double Reconstruct(int32_t multiplier, int shift) { return std::ldexp(static_cast<double>(multiplier), shift - 31); }

// ---- QuantizeMultiplier -----------------------------------------------------------

struct QmCase {
  double real;
  int32_t multiplier;
  int shift;
};

TEST(QuantizeMultiplier, ExactKnownValues) {
  const QmCase cases[] = {
      {0.0, 0, 0},
      {0.5, 1073741824, 0},
      {1.0, 1073741824, 1},
      {0.75, 1610612736, 0},
      {2.5, 1342177280, 2},           // 0.625 * 2^2
      {0.25, 1073741824, -1},
      {3.0, 1610612736, 2},           // 0.75 * 2^2
      {0.0123, 1690499128, -6},       // the doc's MBQM example
      {1.0 / 3.0, 1431655765, -1},    // round(2/3 * 2^31) = 1431655765.33 -> 1431655765
      {std::ldexp(1.0, -31), 1073741824, -30},  // 0.5 * 2^-30: still representable
      {std::ldexp(1.0, -32), 1073741824, -31},  // 0.5 * 2^-31: the smallest kept shift
      {std::ldexp(1.0, -33), 0, 0},             // shift -32 < -31: flushed
      {1e-10, 0, 0},
      {1e-12, 0, 0},
  };
  for (const QmCase& c : cases) {
    int32_t m = -1;
    int shift = -100;
    QuantizeMultiplier(c.real, &m, &shift);
    EXPECT_EQ(m, c.multiplier) << "real=" << c.real;
    EXPECT_EQ(shift, c.shift) << "real=" << c.real;
  }
}

TEST(QuantizeMultiplier, SignificandRoundingUpToTwoPow31BumpsTheShift) {
  // q * 2^31 rounds to exactly 2^31: the significand is halved and the shift incremented.
  const double reals[] = {0.999999999999, 1.0 - std::ldexp(1.0, -33), 1.0 - std::ldexp(1.0, -32) /* tie: away from 0 */};
  for (double real : reals) {
    int32_t m = 0;
    int shift = 0;
    QuantizeMultiplier(real, &m, &shift);
    EXPECT_EQ(m, 1073741824) << "real=" << real;
    EXPECT_EQ(shift, 1) << "real=" << real;
  }
  // The same carry at another binade: 0.4999999999999 -> 0.5.
  int32_t m = 0;
  int shift = 0;
  QuantizeMultiplier(0.4999999999999, &m, &shift);
  EXPECT_EQ(m, 1073741824);
  EXPECT_EQ(shift, 0);
  // Just below the carry: 1 - 2^-31 keeps the largest significand.
  QuantizeMultiplier(1.0 - std::ldexp(1.0, -31), &m, &shift);
  EXPECT_EQ(m, kMax32);
  EXPECT_EQ(shift, 0);
}

TEST(QuantizeMultiplier, RandomValuesReconstructWithinTwoPowMinus31Relative) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> log2_dist(-30.0, 30.0);
  int failures = 0;
  for (int i = 0; i < 200000; ++i) {
    const double real = std::exp2(log2_dist(rng));
    int32_t m = 0;
    int shift = 0;
    QuantizeMultiplier(real, &m, &shift);
    const bool in_range = m >= (1 << 30) && m <= kMax32;
    const double rel = std::fabs(Reconstruct(m, shift) - real) / real;
    if ((!in_range || rel > std::ldexp(1.0, -31)) && ++failures <= 5)
      ADD_FAILURE() << "real=" << real << " -> m=" << m << " shift=" << shift << " relative error " << rel;
  }
  EXPECT_EQ(failures, 0);
}

// ---- RoundingDivideByPOT ------------------------------------------------------------

TEST(RoundingDivideByPOT, TiesAwayFromZero) {
  struct Case {
    int32_t x;
    int e;
    int32_t expected;
  };
  const Case cases[] = {
      {5, 1, 3},   {-5, 1, -3},  {6, 2, 2},   {-6, 2, -2},  {3, 1, 2},    {-3, 1, -2},  {1, 1, 1},
      {-1, 1, -1}, {7, 2, 2},    {-7, 2, -2}, {5, 2, 1},    {-5, 2, -1},  {2, 2, 1},    {-2, 2, -1},
      {1, 2, 0},   {-1, 2, 0},   {0, 5, 0},   {12345, 0, 12345},          {-12345, 0, -12345},
      {kMax32, 31, 1},           {kMin32, 31, -1},          {kMin32, 1, kMin32 / 2},  {kMax32, 1, 1073741824},
      {-1073741824, 31, -1} /* -0.5: away from zero */,     {1073741824, 31, 1},      {1073741823, 31, 0},
      {-1073741823, 31, 0},
  };
  for (const Case& c : cases) EXPECT_EQ(RoundingDivideByPOT(c.x, c.e), c.expected) << c.x << " / 2^" << c.e;
}

TEST(RoundingDivideByPOT, MatchesRoundOfExactQuotient) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> any(kMin32, kMax32);
  std::uniform_int_distribution<int32_t> small(-4096, 4096);
  int failures = 0;
  for (int i = 0; i < 100000; ++i) {
    const int32_t x = (i & 1) ? any(rng) : small(rng);
    const int e = i % 32;
    const double exact = std::ldexp(static_cast<double>(x), -e);  // exact in double
    const int32_t expected = static_cast<int32_t>(std::round(exact));  // C round: ties away from zero
    const int32_t got = RoundingDivideByPOT(x, e);
    if (got != expected && ++failures <= 5) ADD_FAILURE() << x << " / 2^" << e << ": got " << got << ", expected " << expected;
  }
  EXPECT_EQ(failures, 0);
}

// ---- SaturatingRoundingDoublingHighMul ---------------------------------------------

TEST(SaturatingRoundingDoublingHighMul, SaturationAndExtremes) {
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin32, kMin32), kMax32);  // the one overflow
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin32, kMax32), -kMax32);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMax32, kMin32), -kMax32);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMax32, kMax32), kMax32 - 1);  // 2^31 - 2 + 2^-31
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin32, 1), -1);              // -1 exactly
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin32, -1), 1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(0, kMin32), 0);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29);
}

TEST(SaturatingRoundingDoublingHighMul, RoundsHalfTowardPlusInfinity) {
  // a*b / 2^31 exactly at .5: +0.5 -> 1, -0.5 -> 0, -1.5 -> -1, 1.5 -> 2 (doc section 1.1).
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, 1), 1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-(1 << 30), 1), 0);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1, -(1 << 30)), 0);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-(1 << 30), 3), -1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, 3), 2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(15, 1 << 30), 8);    // 7.5
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-15, 1 << 30), -7);  // -7.5
  // Just off the tie rounds to nearest.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-(1 << 30) - 1, 1), -1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul((1 << 30) - 1, 1), 0);
}

TEST(SaturatingRoundingDoublingHighMul, MatchesFloorOfProductPlusHalf) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> any(kMin32, kMax32);
  int failures = 0;
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = any(rng);
    const int32_t b = (i % 3 == 0) ? (1 << (i % 31)) : any(rng);
    if (a == kMin32 && b == kMin32) continue;
    // Closed form (doc 1.1): floor((a*b + 2^30) / 2^31), evaluated in 128-bit-safe steps.
    const __int128 ab = static_cast<__int128>(a) * b;
    __int128 q = (ab + (static_cast<__int128>(1) << 30));
    const __int128 d = static_cast<__int128>(1) << 31;
    __int128 fl = q / d;
    if ((q % d != 0) && (q < 0)) --fl;
    const int32_t expected = static_cast<int32_t>(fl);
    const int32_t got = SaturatingRoundingDoublingHighMul(a, b);
    if (got != expected && ++failures <= 5) ADD_FAILURE() << a << " * " << b << ": got " << got << ", expected " << expected;
  }
  EXPECT_EQ(failures, 0);
}

// ---- MultiplyByQuantizedMultiplier --------------------------------------------------

TEST(MultiplyByQuantizedMultiplier, DocExample) {
  int32_t m = 0;
  int shift = 0;
  QuantizeMultiplier(0.0123, &m, &shift);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1000, m, shift), 12);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-1000, m, shift), -12);
}

TEST(MultiplyByQuantizedMultiplier, ExactWhenResultIsRepresentable) {
  // x * real is an integer (real a dyadic rational with few bits): no rounding anywhere.
  const double reals[] = {0.5, 0.25, 0.75, 1.0, 1.5, 2.0, 3.0, 2.5, 0.375, 1.0 / 64, 5.0 / 128, 7.0, 12.0, 0.8125};
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> xs(-200000, 200000);
  for (double real : reals) {
    int32_t m = 0;
    int shift = 0;
    QuantizeMultiplier(real, &m, &shift);
    ASSERT_EQ(Reconstruct(m, shift), real);
    int checked = 0;
    while (checked < 2000) {
      const int32_t x = xs(rng) * 128;  // multiples of 128 make x * real integral for all reals above
      const double exact = static_cast<double>(x) * real;
      ASSERT_EQ(exact, std::floor(exact));
      EXPECT_EQ(MultiplyByQuantizedMultiplier(x, m, shift), static_cast<int32_t>(exact)) << "x=" << x << " real=" << real;
      ++checked;
    }
  }
}

TEST(MultiplyByQuantizedMultiplier, WithinOneOfDoublePrecisionProduct) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> log2_dist(-20.0, 6.0);
  std::uniform_int_distribution<int32_t> xs(-(1 << 24), 1 << 24);
  int failures = 0;
  for (int i = 0; i < 200000; ++i) {
    const double real = std::exp2(log2_dist(rng));
    int32_t m = 0;
    int shift = 0;
    QuantizeMultiplier(real, &m, &shift);
    int32_t x = xs(rng);
    // Keep x * 2^left_shift inside int32 (TFLite computes it in int32) and |x * real| <= 2^24,
    // which keeps the multiplier's own 2^-31 relative error below 2^-7.
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t limit = static_cast<int32_t>(std::min<double>((1 << 24) >> left, (1 << 24) / (real + 1.0)));
    x = limit > 0 ? x % (limit + 1) : 0;
    const double exact = static_cast<double>(x) * real;
    const int32_t got = MultiplyByQuantizedMultiplier(x, m, shift);
    // Double rounding (SRDHM to 2^-right, then RoundingDivideByPOT): at most
    // 0.5 + 0.5 * 2^-right from the exact product, so always within 1.
    const double bound = 0.5 + std::ldexp(0.5, -right) + 1.0 / 128;
    const double err = std::fabs(static_cast<double>(got) - exact);
    if ((err > bound || err > 1.0) && ++failures <= 5)
      ADD_FAILURE() << "x=" << x << " real=" << real << " (m=" << m << ", shift=" << shift << "): got " << got << ", exact " << exact;
  }
  EXPECT_EQ(failures, 0);
}

TEST(MultiplyByQuantizedMultiplier, DoubleRoundingIsTfliteNotSingleRounding) {
  // real = 0.5000001 * 2^-1: SRDHM gives 2*v rounded, then a rounding halving. For
  // v = 152315.46: SRDHM -> 304631, /2 -> 152315.5 -> 152316 (single rounding: 152315).
  int32_t m = 0;
  int shift = 0;
  QuantizeMultiplier(0.2500672514, &m, &shift);
  ASSERT_EQ(shift, -1);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(609098, m, shift), 152316);
  // Ties of the final shift go away from zero, ties of SRDHM toward +inf.
  QuantizeMultiplier(0.25, &m, &shift);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(6, m, shift), 2);    // 1.5 -> 2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-6, m, shift), -2);  // -1.5 -> -2
  QuantizeMultiplier(0.5, &m, &shift);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(15, m, shift), 8);   // 7.5 -> 8
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-15, m, shift), -7);  // -7.5 -> -7 (SRDHM tie toward +inf)
}

// ---- ActivationRangeInt8 ------------------------------------------------------------

TEST(ActivationRangeInt8, KnownRanges) {
  struct Case {
    Activation act;
    float scale;
    int32_t zp;
    int32_t lo, hi;
  };
  const Case cases[] = {
      {Activation::kNone, 0.1f, 3, -128, 127},
      {Activation::kNone, 1e-4f, -128, -128, 127},
      {Activation::kRelu, 0.1f, -5, -5, 127},
      {Activation::kRelu, 0.02f, -128, -128, 127},
      {Activation::kRelu, 0.5f, 127, 127, 127},
      {Activation::kRelu, 0.05f, -130, -128, 127},        // zero point below int8: clamped to -128
      {Activation::kRelu6, 6.0f / 255.0f, -128, -128, 127},  // the usual RELU6 output quantization
      {Activation::kRelu6, 0.1f, -100, -100, -40},
      {Activation::kRelu6, 0.05f, 10, 10, 127},          // 10 + 120 = 130 -> 127
      {Activation::kRelu6, 0.25f, 0, 0, 24},
      {Activation::kRelu6, 4.0f, -3, -3, -1},            // 6/4 = 1.5 -> 2 (ties away from zero)
      {Activation::kRelu6, 12.0f, 5, 5, 6},              // 6/12 = 0.5 -> 1
      {Activation::kRelu6, 0.047244094f, -128, -128, -1},  // 6/0.0472.. = 127.0000.. -> 127
  };
  for (const Case& c : cases) {
    int32_t lo = 0, hi = 0;
    ActivationRangeInt8(c.act, c.scale, c.zp, &lo, &hi);
    EXPECT_EQ(lo, c.lo) << ActivationName(c.act) << " scale=" << c.scale << " zp=" << c.zp;
    EXPECT_EQ(hi, c.hi) << ActivationName(c.act) << " scale=" << c.scale << " zp=" << c.zp;
  }
}

TEST(ActivationRangeInt8, RandomScalesMatchDefinition) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> log_scale(std::log(1e-3f), std::log(0.5f));
  std::uniform_int_distribution<int32_t> zps(-128, 127);
  for (int i = 0; i < 3000; ++i) {
    const float scale = std::exp(log_scale(rng));
    const int32_t zp = zps(rng);
    for (Activation act : {Activation::kNone, Activation::kRelu, Activation::kRelu6}) {
      int32_t lo = 0, hi = 0;
      ActivationRangeInt8(act, scale, zp, &lo, &hi);
      int32_t want_lo = -128, want_hi = 127;
      if (act != Activation::kNone) want_lo = std::max(-128, zp);
      if (act == Activation::kRelu6) {
        // zp + round(6 / scale): compare with the double quotient; the kernel divides in
        // float, which can only matter within float epsilon of a tie.
        const double q = 6.0 / static_cast<double>(scale);
        const double frac = q - std::floor(q);
        if (std::fabs(frac - 0.5) < 1e-5) continue;
        want_hi = static_cast<int32_t>(std::min<double>(127.0, zp + std::round(q)));
      }
      ASSERT_EQ(lo, want_lo) << ActivationName(act) << " scale=" << scale << " zp=" << zp;
      ASSERT_EQ(hi, want_hi) << ActivationName(act) << " scale=" << scale << " zp=" << zp;
      ASSERT_LE(lo, hi);
    }
  }
}

// ---- fixed point: exp, 1/(1+x), logistic, reciprocal --------------------------------

double RawToReal(int32_t raw, int integer_bits) { return std::ldexp(static_cast<double>(raw), integer_bits - 31); }

// gemmlowp's exp: degree-4 Taylor around -1/8 on [-1/4, 0) (truncation error below
// (1/8)^5/120 * e^(-1/8) ~ 2.3e-7) plus Q0.31 rounding in up to 7 barrel-shifter products.
// Measured maximum over the whole Q5.26 and Q4.27 ranges: 2.29e-7 (absolute).
constexpr double kExpTolerance = 5e-7;
// logistic = 1/(1+exp(-|x|)): the exp error is damped by the derivative (<= 1/4). Measured
// maximum over all of Q4.27: 7.1e-8.
constexpr double kLogisticTolerance = 2e-7;

void CheckExpSweep(int integer_bits, int steps) {
  const int fractional_bits = 31 - integer_bits;
  const double min_real = -std::ldexp(1.0, integer_bits);  // the most negative value
  double max_err = 0.0, worst_x = 0.0;
  for (int i = 0; i <= steps; ++i) {
    // Sweep the representable range [min, 0], with raw values that are not round numbers.
    const double x_target = min_real * static_cast<double>(i) / steps;
    int64_t raw64 = static_cast<int64_t>(std::llround(std::ldexp(x_target, fractional_bits))) + (i % 7) - 3;
    raw64 = std::min<int64_t>(0, std::max<int64_t>(raw64, kMin32));
    const int32_t raw = static_cast<int32_t>(raw64);
    const double x = RawToReal(raw, integer_bits);
    const double got = RawToReal(fixed_point::ExpOnNegativeValues(raw, integer_bits), 0);
    const double err = std::fabs(got - std::exp(x));
    if (err > max_err) max_err = err, worst_x = x;
  }
  EXPECT_LT(max_err, kExpTolerance) << "integer_bits=" << integer_bits << " worst at x=" << worst_x;
}

TEST(FixedPoint, ExpOnNegativeValuesMatchesExp) {
  CheckExpSweep(5, 400000);  // softmax: Q5.26, x in [-32, 0]
  CheckExpSweep(4, 400000);  // logistic: Q4.27, x in [-16, 0]
  // Exact points: exp(0) is One(); every -2^k step multiplies by the table constant.
  EXPECT_EQ(fixed_point::ExpOnNegativeValues(0, 5), kMax32);
  EXPECT_EQ(fixed_point::ExpOnNegativeValues(0, 4), kMax32);
  EXPECT_NEAR(RawToReal(fixed_point::ExpOnNegativeValues(-(1 << 26), 5), 0), std::exp(-1.0), kExpTolerance);
  EXPECT_NEAR(RawToReal(fixed_point::ExpOnNegativeValues(kMin32, 5), 0), std::exp(-32.0), kExpTolerance);
  EXPECT_NEAR(RawToReal(fixed_point::ExpOnNegativeValues(kMin32, 4), 0), std::exp(-16.0), kExpTolerance);
}

TEST(FixedPoint, ExpOnIntervalNegQuarterTo0) {
  double max_err = 0.0;
  for (int i = 1; i <= 100000; ++i) {
    const int32_t raw = -static_cast<int32_t>((static_cast<int64_t>(1) << 29) * i / 100000);  // (-1/4, 0)
    const double err = std::fabs(RawToReal(fixed_point::ExpOnIntervalNegQuarterTo0(raw), 0) - std::exp(RawToReal(raw, 0)));
    max_err = std::max(max_err, err);
  }
  EXPECT_LT(max_err, kExpTolerance);
}

// Three Newton steps from a start within 1/17 leave (1/17)^8 ~ 1.4e-10; the rest is Q2.29
// rounding (2^-29 ~ 1.9e-9 per step). Measured maximum over [0, 1): 3.2e-9; GetReciprocal's
// relative error over Q12.19 sums: 4.8e-9.
constexpr double kReciprocalTolerance = 1e-8;

TEST(FixedPoint, OneOverOnePlusXMatchesDivision) {
  double max_err = 0.0, worst = 0.0;
  for (int i = 0; i < 200000; ++i) {
    const int32_t raw = static_cast<int32_t>(static_cast<int64_t>(kMax32) * i / 200000 + (i % 5));
    const double x = RawToReal(raw, 0);
    const double got = RawToReal(fixed_point::OneOverOnePlusX(raw), 0);
    const double err = std::fabs(got - 1.0 / (1.0 + x));
    if (err > max_err) max_err = err, worst = x;
  }
  EXPECT_LT(max_err, kReciprocalTolerance) << "worst at x=" << worst;
}

TEST(FixedPoint, LogisticMatchesDefinition) {
  // Q4.27 input over the whole range (-16, 16); the Q0.31 result within exp + reciprocal error.
  double max_err = 0.0, worst = 0.0;
  for (int i = -200000; i <= 200000; ++i) {
    const int32_t raw = static_cast<int32_t>(static_cast<int64_t>(kMax32) * i / 200000);
    const double x = RawToReal(raw, 4);
    const double got = RawToReal(fixed_point::Logistic(raw, 4), 0);
    const double err = std::fabs(got - 1.0 / (1.0 + std::exp(-x)));
    if (err > max_err) max_err = err, worst = x;
  }
  EXPECT_LT(max_err, kLogisticTolerance) << "worst at x=" << worst;
  EXPECT_EQ(fixed_point::Logistic(0, 4), 1 << 30);  // exactly 0.5
  // Symmetry: logistic(-x) = One() - logistic(x).
  for (int32_t raw : {1, 1000, 1 << 20, 1 << 27, 3 << 27, kMax32})
    EXPECT_EQ(fixed_point::Logistic(-raw, 4), kMax32 - fixed_point::Logistic(raw, 4)) << raw;
}

TEST(FixedPoint, GetReciprocalOfQ12Sums) {
  // Softmax sums: Q12.19 values in [1, 4096). 1/x = result * 2^-num_bits_over_unit.
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> sums(1 << 19, kMax32);
  double max_rel = 0.0;
  for (int i = 0; i < 200000; ++i) {
    const int32_t raw = i < 32 ? static_cast<int32_t>((int64_t{1} << (19 + i % 12))) : sums(rng);
    int bits = -1;
    const int32_t r = fixed_point::GetReciprocal(raw, 12, &bits);
    ASSERT_GE(bits, 0) << raw;
    ASSERT_LE(bits, 12) << raw;
    ASSERT_GT(r, (1 << 30) - 64) << "reciprocal significand below 0.5 for raw=" << raw;
    const double x = RawToReal(raw, 12);
    const double got = std::ldexp(RawToReal(r, 0), -bits);
    max_rel = std::max(max_rel, std::fabs(got * x - 1.0));
  }
  EXPECT_LT(max_rel, kReciprocalTolerance);
  // Powers of two: 1/1 with 0 bits over unit, 1/2 with 1, ...
  int bits = -1;
  EXPECT_NEAR(RawToReal(fixed_point::GetReciprocal(1 << 19, 12, &bits), 0), 1.0, 1e-9);
  EXPECT_EQ(bits, 0);
  EXPECT_NEAR(RawToReal(fixed_point::GetReciprocal(1 << 20, 12, &bits), 0), 1.0, 1e-9);
  EXPECT_EQ(bits, 1);
}

TEST(FixedPoint, RescaleAndSaturatingMultiplyByPOT) {
  EXPECT_EQ(fixed_point::SaturatingRoundingMultiplyByPOT(1 << 20, 3), 1 << 23);
  EXPECT_EQ(fixed_point::SaturatingRoundingMultiplyByPOT(1 << 29, 2), kMax32);    // 2^31 saturates
  EXPECT_EQ(fixed_point::SaturatingRoundingMultiplyByPOT(-(1 << 29), 2), kMin32);  // -2^31: T = 2^29 - 1
  EXPECT_EQ(fixed_point::SaturatingRoundingMultiplyByPOT((1 << 29) - 1, 2), ((1 << 29) - 1) * 4);
  EXPECT_EQ(fixed_point::SaturatingRoundingMultiplyByPOT(-5, -1), -3);
  EXPECT_EQ(fixed_point::Rescale(kMax32, 0, 12), 1 << 19);  // One() in Q0.31 -> exactly 1.0 in Q12.19
  EXPECT_EQ(fixed_point::RoundingHalfSum(3, 4), 4);
  EXPECT_EQ(fixed_point::RoundingHalfSum(-3, -4), -4);
  EXPECT_EQ(fixed_point::RoundingHalfSum(kMax32, kMax32), kMax32);
  EXPECT_EQ(fixed_point::RoundingHalfSum(kMin32, kMin32), kMin32);
}

}  // namespace
}  // namespace personcls
