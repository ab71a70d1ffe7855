// Integer requantization arithmetic with TensorFlow Lite's exact semantics (its default
// double-rounding mode, not TFLITE_SINGLE_ROUNDING). Everything int8 in the runtime goes
// through these functions; they are the specification the fast kernels must match.
#pragma once

#include <cassert>
#include <cstdint>
#include <limits>

#include "personcls/graph.h"

namespace personcls::quant {

// round(a * b / 2^31) with round-half-away-from-zero; saturates the one overflowing case
// (INT32_MIN * INT32_MIN).
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero. 0 <= exponent <= 31.
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  assert(exponent >= 0 && exponent <= 31);
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// Wrapping left shift: TFLite computes x * (1 << shift) in int32; doing it in uint32 gives
// the same bits without signed-overflow UB.
inline int32_t ShiftLeftWrapping(int32_t x, int shift) {
  return static_cast<int32_t>(static_cast<uint32_t>(x) << shift);
}

// Wrapping add: an int32 accumulator plus an int32 bias as TFLite's kernels add them (in
// int32, two's complement); uint32 gives the same bits without signed-overflow UB, for any
// bias a model file may hold.
inline int32_t AddWrapping(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }

// x * multiplier * 2^shift where `multiplier` is a Q31 value in [0.5, 1) (or 0).
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(ShiftLeftWrapping(x, left_shift), multiplier), right_shift);
}

inline int32_t MultiplyByQuantizedMultiplierGreaterThanOne(int32_t x, int32_t multiplier, int left_shift) {
  return SaturatingRoundingDoublingHighMul(ShiftLeftWrapping(x, left_shift), multiplier);
}

inline int32_t MultiplyByQuantizedMultiplierSmallerThanOneExp(int32_t x, int32_t multiplier, int left_shift) {
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, multiplier), -left_shift);
}

// Splits a positive real multiplier into a Q31 significand in [2^30, 2^31) and a power of
// two: real = multiplier * 2^(shift - 31). Zero maps to (0, 0); tiny values (shift < -31)
// flush to (0, 0) as TFLite does.
void QuantizeMultiplier(double real_multiplier, int32_t* multiplier, int* shift);

// QuantizeMultiplier for multipliers taken from a model file: false (and 0, 0) when the
// multiplier is not finite, negative, or so large (>= 2^30) that applying it would shift
// int32 values by 31 bits or more. Prepare turns false into an error.
bool QuantizeModelMultiplier(double real_multiplier, int32_t* multiplier, int* shift);

// Quantizes a real value with TFLite's Quantize(): zero_point + round(f / scale), the
// division in float. Used for activation clamp bounds.
int32_t QuantizeValue(float scale, int32_t zero_point, float f);

// The int8 clamp range [*act_min, *act_max] of a fused activation for an output with
// the given quantization, as TFLite's CalculateActivationRangeQuantized.
void ActivationRangeInt8(Activation act, float scale, int32_t zero_point, int32_t* act_min, int32_t* act_max);
void ActivationRangeFloat(Activation act, float* act_min, float* act_max);

// floor of the largest input difference representable in a fixed-point value with
// `integer_bits` integer bits after a left shift of `left_shift` (TFLite's
// CalculateInputRadius).
int CalculateInputRadius(int integer_bits, int left_shift, int total_signed_bits = 31);

inline int8_t ClampToInt8(int32_t v, int32_t lo, int32_t hi) {
  return static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
}

}  // namespace personcls::quant
