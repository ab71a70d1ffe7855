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
struct alignas(32) RequantBlock8 {
  int32_t left_shift[8];
  int32_t multiplier[8];
  int32_t right_shift[8];
  int32_t remainder_mask[8];  // (1 << right_shift) - 1
  int32_t threshold[8];       // remainder_mask >> 1 (plus 1 for negative values, at run time)
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
// zero multiplier (its lane is computed but never stored).
inline void FillRequantLane(const S8Requant& q, int c, int channels, RequantBlock8& b, int lane) {
  const int ch = q.per_tensor ? 0 : c;
  const bool real = c < channels;
  const int shift = real ? q.shift[ch] : 0;
  b.left_shift[lane] = shift > 0 ? shift : 0;
  b.multiplier[lane] = real ? q.multiplier[ch] : 0;
  const int right = shift > 0 ? 0 : -shift;
  b.right_shift[lane] = right;
  b.remainder_mask[lane] = static_cast<int32_t>((int64_t{1} << right) - 1);
  b.threshold[lane] = b.remainder_mask[lane] >> 1;
}

// Fills blocks[0 .. ceil(channels_padded / 8)) from `q`, 8 consecutive channels per block.
inline void FillRequantBlocks(const S8Requant& q, int channels, int channels_padded, RequantBlock8* blocks) {
  for (int c = 0; c < channels_padded; ++c) FillRequantLane(q, c, channels, blocks[c / 8], c % 8);
}

// The constants of one RequantBlock8 held in registers (load once per channel block,
// outside the pixel loop).
struct Requant8 {
  __m256i left_shift, multiplier, multiplier_odd, right_shift, remainder_mask, threshold;
};

inline Requant8 LoadRequant8(const RequantBlock8& p) {
  Requant8 r;
  r.left_shift = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.left_shift));
  r.multiplier = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.multiplier));
  r.multiplier_odd = _mm256_srli_epi64(r.multiplier, 32);
  r.right_shift = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.right_shift));
  r.remainder_mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.remainder_mask));
  r.threshold = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.threshold));
  return r;
}

// MultiplyByQuantizedMultiplier(acc, ...) + output_offset for 8 lanes (no clamp).
inline __m256i Requantize8(__m256i acc, const Requant8& p, __m256i output_offset) {
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
  return _mm256_add_epi32(_mm256_sub_epi32(r, _mm256_cmpgt_epi32(remainder, threshold)), output_offset);  // true lanes are -1
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
