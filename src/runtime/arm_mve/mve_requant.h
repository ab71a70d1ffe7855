// int8 requantization of 4 int32 accumulators at once with MVE, bit-exact with
// quant::MultiplyByQuantizedMultiplier (TFLite's double rounding) for every multiplier
// Prepare produces:
//  - SaturatingRoundingDoublingHighMul(a, m) is floor((a*m + 2^30) / 2^31) (see
//    arm_dsp/dsp_requant.h) with the same saturation, which is exactly VQRDMULH.S32:
//    sat((2*a*m + 2^31) >> 32).
//  - RoundingDivideByPOT(x, e) rounds half away from zero; VRSHL by -e rounds half up,
//    so negative x are first moved down by one ((x - 1 + 2^(e-1)) >> e) where e > 0. x
//    is never INT32_MIN (|x| <= |a| * m / 2^31 + 1 with m < 2^31), so x - 1 cannot wrap.
//  - the left shift of positive exponents is VSHL (wrapping, as the reference).
#pragma once

#include <arm_mve.h>

#include <cstdint>

namespace personcls::arm_mve {

struct RequantVectors {
  int32x4_t multiplier;  // Q31
  int32x4_t left;        // max(shift, 0)
  int32x4_t right;       // min(shift, 0): VRSHL shifts right by -right, rounding
  mve_pred16_t rounds;   // lanes with right < 0
};

inline RequantVectors LoadRequant(const int32_t* multiplier, const int32_t* shift) {
  const int32x4_t s = vldrwq_s32(shift);
  const int32x4_t zero = vdupq_n_s32(0);
  return {vldrwq_s32(multiplier), vmaxq_s32(s, zero), vminq_s32(s, zero), vcmpltq_n_s32(s, 0)};
}

inline RequantVectors SplatRequant(int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : shift;
  return {vdupq_n_s32(multiplier), vdupq_n_s32(left), vdupq_n_s32(right), right < 0 ? mve_pred16_t{0xFFFF} : mve_pred16_t{0}};
}

inline int32x4_t MultiplyByQuantizedMultiplier(int32x4_t acc, const RequantVectors& r) {
  const int32x4_t high = vqrdmulhq_s32(vshlq_s32(acc, r.left), r.multiplier);
  const int32x4_t adjusted = vaddq_m_s32(high, high, vshrq_n_s32(high, 31), r.rounds);  // x - 1 for x < 0
  return vrshlq_s32(adjusted, r.right);
}

// + output offset, clamp to the activation range, and store the 4 low bytes (lanes
// beyond `valid` are not written).
inline void StoreInt8(int8_t* out, int32x4_t v, int32_t offset, int32_t act_min, int32_t act_max, uint32_t valid) {
  v = vaddq_n_s32(v, offset);
  v = vmaxq_s32(v, vdupq_n_s32(act_min));
  v = vminq_s32(v, vdupq_n_s32(act_max));
  vstrbq_p_s32(out, v, vctp32q(valid));
}

}  // namespace personcls::arm_mve
