// The Armv7E-M DSP instructions the kernels use, through ACLE (arm_acle.h), with a plain
// C++ model of each for documentation (and for reading the kernels on a PC).
//   SXTB16  (__sxtb16(x)):      sign-extends bytes 0 and 2 of x into two halfwords
//   SXTAB16 (__sxtab16(a, x)):  the same, each halfword added to the halfwords of a
//   SMLAD   (__smlad(a, b, c)): c + a.lo * b.lo + a.hi * b.hi (signed halfwords)
//   SMLABB / SMLATT:            c + a.lo * b.lo / c + a.hi * b.hi
// Rotating x right by 8 first selects bytes 1 and 3 instead of 0 and 2, so one
// word of 4 int8 values becomes the halfword pairs (x0, x2) and (x1, x3).
#pragma once

#include <arm_acle.h>

#include <cstdint>
#include <cstring>

namespace personcls::arm_dsp {

inline uint32_t Load32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // one LDR: Armv7-M allows unaligned word loads
  return v;
}

inline uint32_t Ror8(uint32_t x) { return (x >> 8) | (x << 24); }  // GCC folds it into SXTB16 ..., ROR #8
inline int32_t Sxtb16(uint32_t x) { return __sxtb16(static_cast<int32_t>(x)); }
inline int32_t Sxtab16(int32_t a, uint32_t x) { return __sxtab16(a, static_cast<int32_t>(x)); }
inline int32_t Smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }
inline int32_t Smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
inline int32_t Smlatt(int32_t a, int32_t b, int32_t acc) { return __smlatt(a, b, acc); }

// The rotated forms in one instruction (GCC does not fold the rotation itself).
inline int32_t Sxtb16Ror8(uint32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
inline int32_t Sxtab16Ror8(int32_t a, uint32_t x) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}

// Both halfwords set to v (an int16 value).
inline int32_t PairOf(int32_t v) { return static_cast<int32_t>((static_cast<uint32_t>(v) & 0xFFFFu) * 0x10001u); }

}  // namespace personcls::arm_dsp
