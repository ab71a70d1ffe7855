// Q-format fixed-point helpers for the int8 SOFTMAX and LOGISTIC kernels.
//
// TFLite evaluates exp() and 1/(1+x) for these ops with gemmlowp's fixed-point routines;
// to be bit-exact we evaluate the same polynomials and Newton iterations with the same
// constants and rounding. A value with I integer bits is an int32 `raw` meaning
// raw / 2^(31 - I). Products of values with I1 and I2 integer bits have I1 + I2 integer
// bits (SaturatingRoundingDoublingHighMul of the raws).
#pragma once

#include <cstdint>
#include <limits>

#include "runtime/quant_math.h"

namespace personcls::fixed_point {

constexpr int32_t kRawMax = std::numeric_limits<int32_t>::max();
constexpr int32_t kRawMin = std::numeric_limits<int32_t>::min();

inline int32_t Mul(int32_t a, int32_t b) { return quant::SaturatingRoundingDoublingHighMul(a, b); }
// Wrapping add/sub, as gemmlowp's raw int32 operators.
inline int32_t Add(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
inline int32_t Sub(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }

// x * 2^exponent: saturating for exponent > 0, rounding for exponent < 0.
inline int32_t SaturatingRoundingMultiplyByPOT(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return quant::RoundingDivideByPOT(x, -exponent);
  const int32_t threshold = static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
  if (x > threshold) return kRawMax;
  if (x < -threshold) return kRawMin;
  return quant::ShiftLeftWrapping(x, exponent);
}

// Changes the number of integer bits of a value from `src_bits` to `dst_bits`.
inline int32_t Rescale(int32_t raw, int src_bits, int dst_bits) { return SaturatingRoundingMultiplyByPOT(raw, src_bits - dst_bits); }

// 1.0 with I integer bits (for I = 0, the largest value below 1).
inline int32_t One(int integer_bits) { return integer_bits == 0 ? kRawMax : (int32_t{1} << (31 - integer_bits)); }

// (a + b) / 2 rounded half away from zero, without overflow.
inline int32_t RoundingHalfSum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + static_cast<int64_t>(b);
  const int64_t sign = sum >= 0 ? 1 : -1;
  return static_cast<int32_t>((sum + sign) / 2);
}

// exp(a) for a in [-1/4, 0), a and result with 0 integer bits: Taylor expansion of degree
// 4 around -1/8.
int32_t ExpOnIntervalNegQuarterTo0(int32_t a);

// exp(a) for a <= 0 with `integer_bits` integer bits; result has 0 integer bits.
int32_t ExpOnNegativeValues(int32_t a, int integer_bits);

// 1 / (1 + a) for a in [0, 1), a and result with 0 integer bits: three Newton-Raphson
// iterations from the linear start 48/17 - 32/17 * d.
int32_t OneOverOnePlusX(int32_t a);

// logistic(a) for a with `integer_bits` integer bits; result has 0 integer bits.
int32_t Logistic(int32_t a, int integer_bits);

// Reciprocal of a positive fixed-point sum with `integer_bits` integer bits, as a value in
// [0.5, 1) (0 integer bits) plus the power of two still owed: 1/x = result * 2^-(*bits_over_unit)
// ... TFLite's GetReciprocal.
int32_t GetReciprocal(int32_t x, int integer_bits, int* num_bits_over_unit);

}  // namespace personcls::fixed_point
