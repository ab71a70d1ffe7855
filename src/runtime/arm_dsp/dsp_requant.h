// int8 requantization for the DSP kernels: TFLite's MultiplyByQuantizedMultiplier (double
// rounding), bit-exact with quant::MultiplyByQuantizedMultiplier for every multiplier
// Prepare produces (Q31 significand m in [0, 2^31), shift in [-31, 30]).
//
// Why these equal the reference. SaturatingRoundingDoublingHighMul(a, m) is
// trunc((a*m + nudge) / 2^31) with nudge = 2^30 for a*m >= 0 and 1 - 2^30 otherwise. For
// every integer a*m that is floor((a*m + 2^30) / 2^31): for negative products
// trunc((v - 2^31 + 1) / 2^31) == floor(v / 2^31) with v = a*m + 2^30. It never
// saturates (that needs a == m == INT32_MIN, and m >= 0).
//  - Exact form: one SMLAL into a 64-bit accumulator preloaded with 2^30, then >> 31.
//  - Fast form, when |a| < 2^30: SMMULR(2a, m) = floor((2a*m + 2^31) / 2^32), the same
//    value in one instruction. Select() proves |a| < 2^30 from the shapes and biases.
// RoundingDivideByPOT(x, e) rounds half away from zero:
//  - exact form: (x >> e) + ((x & mask) > (mask >> 1) + (x < 0)), mask = 2^e - 1;
//  - fast form for e >= 1 and |x| < 2^30: (x + 2^(e-1) - (x < 0)) >> e.
#pragma once

#include <arm_acle.h>

#include <cstdint>

namespace personcls::arm_dsp {

inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  const int64_t product = static_cast<int64_t>(shifted) * multiplier + (int64_t{1} << 30);
  const int32_t high = static_cast<int32_t>(product >> 31);
  const uint32_t mask = (uint32_t{1} << right) - 1;
  const uint32_t threshold = (mask >> 1) + (static_cast<uint32_t>(high) >> 31);
  return (high >> right) + ((static_cast<uint32_t>(high) & mask) > threshold ? 1 : 0);
}

inline int32_t Smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

// The fast form: valid when |x| < 2^30 and shift <= -1 (see above).
inline int32_t MultiplyByQuantizedMultiplierFast(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t high = Smmulr(x + x, multiplier);
  const int32_t right = -shift;
  const int32_t round = (int32_t{1} << right) >> 1;
  return (high + round - static_cast<int32_t>(static_cast<uint32_t>(high) >> 31)) >> right;
}

// Output offset and the fused activation's clamp, to int8.
struct OutputStage {
  int32_t offset, act_min, act_max;
  bool clamp_min, clamp_max;  // the activation range is narrower than int8's

  int8_t operator()(int32_t v) const {
    v = __ssat(v + offset, 8);
    if (clamp_min && v < act_min) v = act_min;
    if (clamp_max && v > act_max) v = act_max;
    return static_cast<int8_t>(v);
  }
};

inline OutputStage MakeOutputStage(int32_t offset, int32_t act_min, int32_t act_max) {
  return {offset, act_min, act_max, act_min > -128, act_max < 127};
}

}  // namespace personcls::arm_dsp
