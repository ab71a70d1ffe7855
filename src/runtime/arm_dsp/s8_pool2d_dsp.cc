// s8_avgpool2d_dsp, s8_maxpool2d_dsp: int8 AVERAGE_POOL_2D and MAX_POOL_2D for the Armv7E-M
// DSP extension (Cortex-M4/M7/M33), bit-exact with ref::s8_avgpool2d / ref::s8_maxpool2d.
// Per output pixel the window's rows are walked once per block of 4 channels (one word):
//   max: SSUB8 sets a GE flag per byte where the new value is >= the running maximum, SEL
//        takes those bytes: 4 signed maxima in 2 instructions; the clamp the same way;
//   average: SXTAB16 adds channels (0, 2) and, rotated, (1, 3) into two pairs of 16-bit
//        sums (exact while the window has at most 255 taps: |sum| <= 128 * 255; larger
//        windows run the reference kernel), then each sum is divided by the number of
//        in-bounds taps with rounding half away from zero.
// Channels past the last whole word run one at a time, so nothing past a row is read.
#include <algorithm>

#include "runtime/arm_dsp/dsp_intrinsics.h"
#include "runtime/arm_dsp/dsp_kernels.h"

namespace personcls::arm_dsp {
namespace {

constexpr int kMaxAvgTaps = 255;

// Byte-wise signed max(a, b) and min(a, b): SSUB8 sets GE[i] where a.byte[i] - b.byte[i]
// >= 0 (the exact 9-bit difference), SEL takes a's byte there and b's elsewhere. One asm
// statement, so the GE flags cannot be separated from the SEL that reads them.
inline uint32_t Max4(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
  return r;
}
inline uint32_t Min4(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
  return r;
}

inline uint32_t Splat4(int32_t v) { return (static_cast<uint32_t>(v) & 0xFFu) * 0x01010101u; }

void S8MaxPool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output) {
  const int channels = g.in_c, words = channels / 4;
  const uint32_t lo = Splat4(act_min), hi = Splat4(act_max);
  for (int n = 0; n < g.batch; ++n) {
    const int8_t* image = input + static_cast<int32_t>(n) * g.in_h * g.in_w * channels;
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox, output += channels) {
        const PoolWindow w = PoolWindowAt(g, oy, ox);
        for (int k = 0; k < words; ++k) {
          uint32_t m = 0x80808080u;
          for (int y = w.yb; y < w.ye; ++y) {
            const int8_t* row = image + (y * g.in_w + w.xb) * channels + 4 * k;
            for (int x = w.xb; x < w.xe; ++x, row += channels) m = Max4(Load32(row), m);
          }
          m = Min4(Max4(m, lo), hi);
          std::memcpy(output + 4 * k, &m, 4);
        }
        for (int c = 4 * words; c < channels; ++c) {
          int32_t m = -128;
          for (int y = w.yb; y < w.ye; ++y)
            for (int x = w.xb; x < w.xe; ++x) m = std::max<int32_t>(m, image[(y * g.in_w + x) * channels + c]);
          output[c] = static_cast<int8_t>(std::min(std::max(m, act_min), act_max));
        }
      }
  }
}

void S8AvgPool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output) {
  const int channels = g.in_c, words = channels / 4;
  for (int n = 0; n < g.batch; ++n) {
    const int8_t* image = input + static_cast<int32_t>(n) * g.in_h * g.in_w * channels;
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox, output += channels) {
        const PoolWindow w = PoolWindowAt(g, oy, ox);
        const int32_t count = w.taps();
        if (count <= 0) continue;  // as the reference: no average, output left as it was
        const int32_t half = count / 2;
        auto finish = [&](int c, int32_t a) {
          const int32_t v = a > 0 ? (a + half) / count : (a - half) / count;
          output[c] = static_cast<int8_t>(std::min(std::max(v, act_min), act_max));
        };
        for (int k = 0; k < words; ++k) {
          int32_t even = 0, odd = 0;  // 16-bit sums of channels (0, 2) and (1, 3)
          for (int y = w.yb; y < w.ye; ++y) {
            const int8_t* row = image + (y * g.in_w + w.xb) * channels + 4 * k;
            for (int x = w.xb; x < w.xe; ++x, row += channels) {
              const uint32_t v = Load32(row);
              even = Sxtab16(even, v);
              odd = Sxtab16Ror8(odd, v);
            }
          }
          finish(4 * k + 0, static_cast<int16_t>(even & 0xFFFF));
          finish(4 * k + 1, static_cast<int16_t>(odd & 0xFFFF));
          finish(4 * k + 2, even >> 16);
          finish(4 * k + 3, odd >> 16);
        }
        for (int c = 4 * words; c < channels; ++c) {
          int32_t a = 0;
          for (int y = w.yb; y < w.ye; ++y)
            for (int x = w.xb; x < w.xe; ++x) a += image[(y * g.in_w + x) * channels + c];
          finish(c, a);
        }
      }
  }
}

}  // namespace

bool SelectS8MaxPool2d(const ConvGeometry&, McuS8Pool* out) {
  out->run = S8MaxPool2d;
  out->name = "s8_maxpool2d_dsp";
  return true;
}

bool SelectS8AvgPool2d(const ConvGeometry& g, McuS8Pool* out) {
  if (g.k_h * g.k_w > kMaxAvgTaps) return false;
  out->run = S8AvgPool2d;
  out->name = "s8_avgpool2d_dsp";
  return true;
}

}  // namespace personcls::arm_dsp
