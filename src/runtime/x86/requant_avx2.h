// Bit-exact int8 requantization for 8 int32 lanes at once (AVX2).
//
// Computes quant::MultiplyByQuantizedMultiplier(acc, multiplier, shift) + output_offset
// exactly as the scalar reference (TFLite's default double rounding):
//   x = acc << max(shift, 0)                                (wrapping, as the reference)
//   h = SaturatingRoundingDoublingHighMul(x, multiplier)   = (x * m + 2^30) >> 31
//   r = RoundingDivideByPOT(h, max(-shift, 0))
// The closed form of SRDHM equals TFLite's truncating form for every input except
// x == m == INT32_MIN; the Make* functions refuse a multiplier of INT32_MIN (real
// multipliers are non-negative), so that case never reaches this code.
//
// Only included by the AVX2 translation units in src/runtime/x86/.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "runtime/kernel_params.h"

namespace personcls::x86 {

// Requantization constants of 8 consecutive output channels, laid out as the vector code
// loads them.
//
// Two exact ways to compute the same result:
//  - General (any shift in [-31, 31]): TFLite's two steps as written above, 16 vector ops.
//  - Fused rounding (every lane right-shifts, e = -shift >= 1; that is every layer whose
//    real scale is below 0.5, which is every convolution of the models we ship): the two
//    roundings fold into one 64-bit sum, 11 vector ops, with the double-rounding result
//    (not TFLITE_SINGLE_ROUNDING's, which differs by 1 on some inputs; see
//    docs/tflite-int8-semantics.md 1.6-1.7). Nested floor divisions compose,
//    floor(floor(a / b) / c) = floor(a / (b c)), so with p = x * m (m >= 0)
//        r = floor((p + 2^30 + 2^(30+e) - n * 2^31) / 2^(31+e)),  n = [p + 2^30 < 0]
//    (n is the "h < 0" of RoundingDivideByPOT's threshold). The vector code takes n from
//    the sign of p instead. The two differ only for p in [-2^30, 0), where the sum lies in
//    [2^(30+e) - 2^31, 2^(30+e) - 2^30), so r = 0 either way, as the reference's
//    RoundingDivideByPOT(0, e). |p| <= 2^62 and the constant is below 2^62, so the sum
//    never overflows; its high 32 bits are floor(sum / 2^32), shifted right
//    arithmetically by e - 1 more.
struct alignas(32) RequantBlock8 {
  int32_t left_shift[8];
  int32_t multiplier[8];
  int32_t multiplier_odd[8];  // multiplier[1], [3], [5], [7] in the even lanes
  int32_t right_shift[8];
  int32_t remainder_mask[8];  // (1 << right_shift) - 1
  int32_t threshold[8];       // remainder_mask >> 1 (plus 1 for negative values, at run time)
  // Fused rounding: 2^30 + 2^(30+e) (p >= 0) and that minus 2^31 (p < 0) for the even
  // lanes (channels 0, 2, 4, 6) and the odd ones (1, 3, 5, 7); e - 1 per lane.
  int64_t round_even[4], round_even_negative[4];
  int64_t round_odd[4], round_odd_negative[4];
  int32_t high_shift[8];
  bool fused_rounding;  // every lane qualifies (see above)
};

// True when every channel's (multiplier, shift) is in the range the vector code handles
// (shift in [-31, 31], multiplier != INT32_MIN), i.e. the range the reference accepts.
inline bool RequantSupported(const S8Requant& q, int channels) {
  const int n = q.per_tensor ? 1 : channels;
  for (int c = 0; c < n; ++c) {
    if (q.shift[c] < -31 || q.shift[c] > 31) return false;
    if (q.multiplier[c] == INT32_MIN) return false;
  }
  return q.act_min >= -128 && q.act_max <= 127 && q.act_min <= q.act_max;
}

// Sets lane `lane` of `b` to output channel c's constants; a channel c >= channels gets a
// zero multiplier and a right shift of 1 (its lane is computed but never stored). Once all
// 8 lanes are set, b.fused_rounding says whether the fused-rounding form applies.
inline void FillRequantLane(const S8Requant& q, int c, int channels, RequantBlock8& b, int lane) {
  const int ch = q.per_tensor ? 0 : c;
  const bool real = c < channels;
  const int shift = real ? q.shift[ch] : -1;
  b.left_shift[lane] = shift > 0 ? shift : 0;
  b.multiplier[lane] = real ? q.multiplier[ch] : 0;
  if (lane % 2 == 1) b.multiplier_odd[lane - 1] = b.multiplier[lane];
  b.multiplier_odd[lane | 1] = 0;  // unused: vpmuldq reads the even lanes only
  const int right = shift > 0 ? 0 : -shift;
  b.right_shift[lane] = right;
  b.remainder_mask[lane] = static_cast<int32_t>((int64_t{1} << right) - 1);
  b.threshold[lane] = b.remainder_mask[lane] >> 1;
  const int64_t round = right >= 1 ? (int64_t{1} << 30) + (int64_t{1} << (30 + right)) : 0;
  // (Plain branches: GCC 12 with -fsanitize=undefined miscompiled the conditional-array form
  // `(odd ? b.round_odd : b.round_even)[lane / 2] = ...`, storing every odd lane at index 0.)
  if (lane % 2 == 0) {
    b.round_even[lane / 2] = round;
    b.round_even_negative[lane / 2] = round - (int64_t{1} << 31);
  } else {
    b.round_odd[lane / 2] = round;
    b.round_odd_negative[lane / 2] = round - (int64_t{1} << 31);
  }
  b.high_shift[lane] = right >= 1 ? right - 1 : 0;
  b.fused_rounding = true;
  for (int j = 0; j < 8; ++j)
    if (b.right_shift[j] < 1) b.fused_rounding = false;
}

// Fills blocks[0 .. ceil(channels_padded / 8)) from `q`, 8 consecutive channels per block.
// Returns whether every block takes the fused-rounding form (a kernel can then choose the
// form once, at prepare time; the two forms give identical results).
inline bool FillRequantBlocks(const S8Requant& q, int channels, int channels_padded, RequantBlock8* blocks) {
  for (int c = 0; c < channels_padded; ++c) FillRequantLane(q, c, channels, blocks[c / 8], c % 8);
  bool all_fused = true;
  for (int b = 0; b < (channels_padded + 7) / 8; ++b) all_fused = all_fused && blocks[b].fused_rounding;
  return all_fused;
}

// The constants of one RequantBlock8 held in registers (load once per channel block,
// outside the pixel loop: the int8 stores between uses could alias the block in memory).
// Only the fields of the block's form are loaded; the others are zero.
struct Requant8 {
  bool fused_rounding;
  __m256i multiplier, multiplier_odd;
  __m256i round_even, round_even_negative, round_odd, round_odd_negative, high_shift;  // fused rounding
  __m256i left_shift, right_shift, remainder_mask, threshold;                          // two roundings
};

namespace requant_detail {

inline __m256i Load(const int32_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
inline __m256i Load(const int64_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }

// The rounding constant of each 64-bit product: `negative` where the product is negative.
inline __m256i SelectBySign(__m256i positive, __m256i negative, __m256i product) {
  return _mm256_castpd_si256(
      _mm256_blendv_pd(_mm256_castsi256_pd(positive), _mm256_castsi256_pd(negative), _mm256_castsi256_pd(product)));
}

inline __m256i FusedRounding(__m256i acc, const Requant8& p) {
  const __m256i even = _mm256_mul_epi32(acc, p.multiplier);  // lanes 0, 2, 4, 6 -> 64 bits
  const __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), p.multiplier_odd);
  const __m256i even_sum = _mm256_add_epi64(even, SelectBySign(p.round_even, p.round_even_negative, even));
  const __m256i odd_sum = _mm256_add_epi64(odd, SelectBySign(p.round_odd, p.round_odd_negative, odd));
  // High 32 bits of each sum: floor(sum / 2^32), back in lanes 0..7.
  const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even_sum, 32), odd_sum, 0xAA);
  return _mm256_srav_epi32(high, p.high_shift);
}

inline __m256i DoubleRounding(__m256i acc, const Requant8& p) {
  const __m256i x = _mm256_sllv_epi32(acc, p.left_shift);
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  // Even lanes: 64-bit products of lanes 0,2,4,6; odd lanes: of lanes 1,3,5,7.
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, p.multiplier), nudge);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), p.multiplier_odd), nudge);
  // Bits 31..62 of each 64-bit sum are the result: move them to bits 0..31 (even lanes)
  // or 32..63 (odd lanes) and merge.
  const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  // RoundingDivideByPOT: (h >> e) + (remainder > threshold + (h < 0)).
  const __m256i remainder = _mm256_and_si256(high, p.remainder_mask);
  const __m256i threshold = _mm256_sub_epi32(p.threshold, _mm256_srai_epi32(high, 31));
  const __m256i r = _mm256_srav_epi32(high, p.right_shift);
  return _mm256_sub_epi32(r, _mm256_cmpgt_epi32(remainder, threshold));  // true lanes are -1
}

}  // namespace requant_detail

// Loads the constants of form kFusedRounding (which must be b.fused_rounding); the other
// form's fields are zero.
template <bool kFusedRounding>
inline Requant8 LoadRequant8(const RequantBlock8& b) {
  using requant_detail::Load;
  const __m256i zero = _mm256_setzero_si256();
  Requant8 r;
  r.fused_rounding = kFusedRounding;
  r.multiplier = Load(b.multiplier);
  r.multiplier_odd = Load(b.multiplier_odd);
  r.round_even = kFusedRounding ? Load(b.round_even) : zero;
  r.round_even_negative = kFusedRounding ? Load(b.round_even_negative) : zero;
  r.round_odd = kFusedRounding ? Load(b.round_odd) : zero;
  r.round_odd_negative = kFusedRounding ? Load(b.round_odd_negative) : zero;
  r.high_shift = kFusedRounding ? Load(b.high_shift) : zero;
  r.left_shift = kFusedRounding ? zero : Load(b.left_shift);
  r.right_shift = kFusedRounding ? zero : Load(b.right_shift);
  r.remainder_mask = kFusedRounding ? zero : Load(b.remainder_mask);
  r.threshold = kFusedRounding ? zero : Load(b.threshold);
  return r;
}

inline Requant8 LoadRequant8(const RequantBlock8& b) {
  return b.fused_rounding ? LoadRequant8<true>(b) : LoadRequant8<false>(b);
}

// MultiplyByQuantizedMultiplier(acc, ...) + output_offset for 8 lanes (no clamp), in the
// form chosen at compile time (kFusedRounding must equal p.fused_rounding): for loops
// that choose the form once per block.
template <bool kFusedRounding>
inline __m256i Requantize8(__m256i acc, const Requant8& p, __m256i output_offset) {
  const __m256i r = kFusedRounding ? requant_detail::FusedRounding(acc, p) : requant_detail::DoubleRounding(acc, p);
  return _mm256_add_epi32(r, output_offset);
}

// As above, the form chosen at run time: the branch goes the same way for every call on
// a block (and, in practice, every block).
inline __m256i Requantize8(__m256i acc, const Requant8& p, __m256i output_offset) {
  return p.fused_rounding ? Requantize8<true>(acc, p, output_offset) : Requantize8<false>(acc, p, output_offset);
}

// As Requantize8<kFusedRounding> with the constants read from the block in memory
// (memory operands): for register-starved callers (a tile's accumulators fill the
// register file).
template <bool kFusedRounding>
inline __m256i Requantize8(__m256i acc, const RequantBlock8& b, __m256i output_offset) {
  return Requantize8<kFusedRounding>(acc, LoadRequant8<kFusedRounding>(b), output_offset);
}

// Saturates 8 int32 lanes to int8 and clamps to [act_min, act_max] (given as 16 copies in
// an __m128i); the 8 results are in the low 8 bytes. Clamping after saturation is exact
// because the activation range lies inside [-128, 127].
inline __m128i PackClamp8(__m256i v, __m128i act_min, __m128i act_max) {
  const __m128i s16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i s8 = _mm_packs_epi16(s16, s16);
  return _mm_min_epi8(_mm_max_epi8(s8, act_min), act_max);
}

// As PackClamp8 for 16 lanes given as two vectors (lanes 0..7 in `lo`, 8..15 in `hi`).
inline __m128i PackClamp16(__m256i lo, __m256i hi, __m128i act_min, __m128i act_max) {
  const __m128i a = _mm_packs_epi32(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
  const __m128i b = _mm_packs_epi32(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
  return _mm_min_epi8(_mm_max_epi8(_mm_packs_epi16(a, b), act_min), act_max);
}

// Stores the first `count` (1..16) bytes of `packed` at d.
inline void StoreFirstBytes(int8_t* d, __m128i packed, int count) {
  if (count == 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), packed);
    return;
  }
  alignas(16) int8_t tmp[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp), packed);
  std::memcpy(d, tmp, count);
}

}  // namespace personcls::x86
