// s8_conv2d_dsp: int8 CONV_2D (any kernel size, stride, dilation, padding, per-channel or
// per-tensor requantization) for the Arm DSP extension, bit-exact with ref::s8_conv2d.
//
// Output pixels are taken two at a time. Their receptive fields (K = k_h * k_w * in_c
// values each) are gathered (im2col) into scratch as int16 with the input offset already
// added (padding becomes 0, which is what zero-point padding contributes), laid out for
// SMLAD: for every group of 4 taps, pixel 0's pairs (x0,x2),(x1,x3) then pixel 1's, 16
// bytes per group. When K is not a multiple of 4 the last group is completed with zeros,
// and the K % 4 leftover taps are also kept as plain int16 (pixel 0's, then pixel 1's).
// The filter stays int8 in place (flash). pcls_s8_dot2x2_dsp (s8_dot2x2_dsp.S) then does
// two channels at a time: 15 instructions per 16 multiply-accumulates. A zero-completed
// group reads up to 3 weights past a channel's row (the next row's, times 0); only the
// last channel pair, whose row ends the filter, stops at the whole groups and finishes
// the leftover taps in C.
#include <algorithm>

#include "runtime/arm_dsp/dsp_intrinsics.h"
#include "runtime/arm_dsp/dsp_kernels.h"
#include "runtime/arm_dsp/dsp_requant.h"

extern "C" void pcls_s8_dot2x2_dsp(const int8_t* w0, const int8_t* w1, const int32_t* col, const int32_t* col_end, int32_t acc[4]);

namespace personcls::arm_dsp {
namespace {

int DepthK(const ConvGeometry& g) { return g.k_h * g.k_w * g.in_c; }

// 16 int8 channels at src (4-byte aligned) -> 8 pairs with the offset added, at out[0,1],
// out[4,5], out[8,9], out[12,13] (the pair layout of one pixel): 14 instructions.
inline void Expand16(const int8_t* src, int32_t* out, int32_t offset_pair) {
  uint32_t x0, x1, x2, x3;
  int32_t a, b;
  __asm__ volatile(
      "ldrd %[x0], %[x1], [%[src]]\n\t"
      "ldrd %[x2], %[x3], [%[src], #8]\n\t"
      "sxtab16 %[a], %[off], %[x0]\n\t"
      "sxtab16 %[b], %[off], %[x0], ror #8\n\t"
      "strd %[a], %[b], [%[out]]\n\t"
      "sxtab16 %[a], %[off], %[x1]\n\t"
      "sxtab16 %[b], %[off], %[x1], ror #8\n\t"
      "strd %[a], %[b], [%[out], #16]\n\t"
      "sxtab16 %[a], %[off], %[x2]\n\t"
      "sxtab16 %[b], %[off], %[x2], ror #8\n\t"
      "strd %[a], %[b], [%[out], #32]\n\t"
      "sxtab16 %[a], %[off], %[x3]\n\t"
      "sxtab16 %[b], %[off], %[x3], ror #8\n\t"
      "strd %[a], %[b], [%[out], #48]"
      : [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [a] "=&r"(a), [b] "=&r"(b)
      : [src] "r"(src), [out] "r"(out), [off] "r"(offset_pair)
      : "memory");
}

// Pixel p's receptive field into `col` as pixel `slot` (0 or 1) of the pair. When in_c is
// a multiple of 4 every tap is whole groups and is expanded straight from the input;
// otherwise the taps are first copied to the int8 `row` (K + 3 bytes).
void Im2col(const ConvGeometry& geometry, int32_t offset_pair, const int8_t* input, int p, int slot, int32_t* col, int8_t* row) {
  const ConvGeometry g = geometry;  // locals: int8 stores below would make the compiler reload every field
  const int k = g.k_h * g.k_w * g.in_c;
  const int n = p / (g.out_h * g.out_w);
  const int oy = p / g.out_w % g.out_h;
  const int ox = p % g.out_w;
  const int in_y0 = oy * g.stride_h - g.pad_top;
  const int in_x0 = ox * g.stride_w - g.pad_left;
  const int8_t* image = input + static_cast<int32_t>(n) * g.in_h * g.in_w * g.in_c;
  if (g.in_c % 4 == 0) {
    int32_t* out = col + 2 * slot;
    const int groups = g.in_c / 4;
    for (int ky = 0; ky < g.k_h; ++ky) {
      const int iy = in_y0 + ky * g.dilation_h;
      const bool row_inside = iy >= 0 && iy < g.in_h;
      for (int kx = 0; kx < g.k_w; ++kx) {
        const int ix = in_x0 + kx * g.dilation_w;
        if (!row_inside || ix < 0 || ix >= g.in_w) {
          for (int i = 0; i < groups; ++i, out += 4) out[0] = out[1] = 0;
          continue;
        }
        const int8_t* src = image + (iy * g.in_w + ix) * g.in_c;
        const int8_t* end = src + g.in_c;
        for (; end - src >= 16; src += 16, out += 16) Expand16(src, out, offset_pair);
        for (; src != end; src += 4, out += 4) {
          const uint32_t x = Load32(src);
          out[0] = Sxtab16(offset_pair, x);
          out[1] = Sxtab16Ror8(offset_pair, x);
        }
      }
    }
    return;
  }
  // Padding (and the zeros completing the last group) is -offset in int8, so it becomes
  // 0 once the offset is added.
  const int8_t pad = static_cast<int8_t>(-static_cast<int16_t>(offset_pair));
  int8_t* r = row;
  const int in_c = g.in_c;
  const int span = g.k_w * in_c;  // one row of taps, contiguous in the input when dilation_w is 1
  const bool whole_rows = g.dilation_w == 1 && in_x0 >= 0 && in_x0 + g.k_w <= g.in_w;
  for (int ky = 0; ky < g.k_h; ++ky) {
    const int iy = in_y0 + ky * g.dilation_h;
    if (whole_rows && iy >= 0 && iy < g.in_h) {
      const int8_t* src = image + (iy * g.in_w + in_x0) * in_c;
      int i = 0;
      for (; i + 4 <= span; i += 4) std::memcpy(r + i, src + i, 4);  // one LDR/STR each
      for (; i < span; ++i) r[i] = src[i];
      r += span;
      continue;
    }
    for (int kx = 0; kx < g.k_w; ++kx, r += in_c) {
      const int ix = in_x0 + kx * g.dilation_w;
      if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
        for (int c = 0; c < in_c; ++c) r[c] = pad;
      } else {
        const int8_t* src = image + (iy * g.in_w + ix) * in_c;
        for (int c = 0; c < in_c; ++c) r[c] = src[c];
      }
    }
  }
  r[0] = r[1] = r[2] = pad;
  const int groups = (k + 3) / 4;
  int32_t* out = col + 2 * slot;
  for (int i = 0; i < groups; ++i, out += 4) {
    const uint32_t x = Load32(row + 4 * i);
    out[0] = Sxtab16(offset_pair, x);
    out[1] = Sxtab16Ror8(offset_pair, x);
  }
  int16_t* tail = reinterpret_cast<int16_t*>(col + 4 * groups) + slot * (k % 4);
  for (int i = k / 4 * 4; i < k; ++i) *tail++ = static_cast<int16_t>(row[i] + static_cast<int16_t>(offset_pair));
}

// K % 4 leftover taps of two channels times two pixels (plain multiply-accumulates).
inline void DotTail(const int8_t* w0, const int8_t* w1, const int16_t* t0, int rest, int32_t acc[4]) {
  const int16_t* t1 = t0 + rest;
  for (int i = 0; i < rest; ++i) {
    acc[0] += w0[i] * t0[i];
    acc[1] += w0[i] * t1[i];
    acc[2] += w1[i] * t0[i];
    acc[3] += w1[i] * t1[i];
  }
}

// acc[2 * c + pixel] (bias included) -> int8 outputs of both pixels.
template <bool kFastRequant, bool kClamp>
void RequantizePair(const S8Requant& q, int out_c, const int32_t* acc, int8_t* out0, int8_t* out1) {
  const int step = q.per_tensor ? 0 : 1;
  const int32_t* mult = q.multiplier;
  const int32_t* shift = q.shift;
  const int32_t offset = q.output_offset, lo = q.act_min, hi = q.act_max;
  for (int c = 0; c < out_c; ++c, mult += step, shift += step, acc += 2) {
    int32_t v0, v1;
    if (kFastRequant) {
      v0 = MultiplyByQuantizedMultiplierFast(acc[0], *mult, *shift);
      v1 = MultiplyByQuantizedMultiplierFast(acc[1], *mult, *shift);
    } else {
      v0 = MultiplyByQuantizedMultiplier(acc[0], *mult, *shift);
      v1 = MultiplyByQuantizedMultiplier(acc[1], *mult, *shift);
    }
    v0 = __ssat(v0 + offset, 8);
    v1 = __ssat(v1 + offset, 8);
    if (kClamp) {
      v0 = v0 < lo ? lo : (v0 > hi ? hi : v0);
      v1 = v1 < lo ? lo : (v1 > hi ? hi : v1);
    }
    out0[c] = static_cast<int8_t>(v0);
    out1[c] = static_cast<int8_t>(v1);
  }
}

template <bool kFastRequant, bool kClamp>
void S8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* input, const int8_t* filter, const int32_t* bias,
              int8_t* output, void* scratch, const void*) {
  const int k = DepthK(g);
  const int groups = k / 4;         // whole groups
  const int padded = (k + 3) / 4;   // groups including a zero-completed last one
  const int k4 = 4 * padded;
  const int out_c = g.out_c;
  auto* col = static_cast<int32_t*>(scratch);                    // 2 pixels x k4 int16, then the plain tails
  int32_t* acc = col + k4 + 4;                                   // 2 pixels x (out_c + 1) int32
  auto* row = reinterpret_cast<int8_t*>(acc + 2 * (out_c + 1));  // k4 + 4 int8
  int8_t* spare = row + k4 + 4;  // out_c int8: the dropped second outputs of a lone last pixel
  const int16_t* tail = reinterpret_cast<const int16_t*>(col + 4 * padded);
  const int32_t offset_pair = PairOf(q.input_offset);
  const int pixels = g.batch * g.out_h * g.out_w;
  for (int p = 0; p < pixels; p += 2) {
    const bool pair = p + 1 < pixels;
    Im2col(g, offset_pair, input, p, 0, col, row);
    Im2col(g, offset_pair, input, pair ? p + 1 : p, 1, col, row);  // a lone last pixel is paired with itself
    for (int c = 0; c < out_c; c += 2) {
      const int c1 = c + 1 < out_c ? c + 1 : c;  // an odd last channel is paired with itself
      const int8_t* w0 = filter + static_cast<int32_t>(c) * k;
      const int8_t* w1 = filter + static_cast<int32_t>(c1) * k;
      int32_t* a = acc + 2 * c;
      a[0] = a[1] = bias ? bias[c] : 0;
      a[2] = a[3] = bias ? bias[c1] : 0;
      if (c1 + 2 <= out_c) {
        pcls_s8_dot2x2_dsp(w0, w1, col, col + 4 * padded, a);
      } else {  // the last rows of the filter: whole groups, then the leftover taps
        pcls_s8_dot2x2_dsp(w0, w1, col, col + 4 * groups, a);
        if (k % 4) DotTail(w0 + 4 * groups, w1 + 4 * groups, tail, k % 4, a);
      }
    }
    int8_t* out0 = output + static_cast<int32_t>(p) * out_c;
    RequantizePair<kFastRequant, kClamp>(q, out_c, acc, out0, pair ? out0 + out_c : spare);
  }
}

}  // namespace

bool FastRequantValid(const S8Requant& q, int channels, int64_t depth, int32_t input_abs_max, int32_t weight_abs_max,
                      const int32_t* bias) {
  const int n = q.per_tensor ? 1 : channels;
  for (int c = 0; c < n; ++c)
    if (q.shift[c] > -1) return false;
  int64_t max_bias = 0;
  for (int c = 0; bias && c < channels; ++c) max_bias = std::max<int64_t>(max_bias, bias[c] < 0 ? -int64_t{bias[c]} : bias[c]);
  return depth * input_abs_max * weight_abs_max + max_bias < (int64_t{1} << 30);
}

bool SelectS8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t*, const int32_t* bias, PreparedAllocator&, McuS8Conv* out) {
  // SXTAB16 adds the offset in 16 bits: x + offset must fit, which it does for any int8
  // zero point (|x + offset| <= 255).
  if (q.input_offset < -128 || q.input_offset > 128) return false;
  const int k = DepthK(g);
  const int k4 = (k + 3) / 4 * 4;
  const bool fast = FastRequantValid(q, g.out_c, k, 255, 128, bias);
  const bool clamp = q.act_min > -128 || q.act_max < 127;
  out->run = fast ? (clamp ? S8Conv2d<true, true> : S8Conv2d<true, false>) : (clamp ? S8Conv2d<false, true> : S8Conv2d<false, false>);
  out->extra = nullptr;
  out->scratch_bytes = 2 * k4 * sizeof(int16_t) + 16 + 2 * (g.out_c + 1) * sizeof(int32_t) + k4 + 4 + g.out_c;
  out->name = g.k_h == 1 && g.k_w == 1 ? "s8_conv2d_1x1_dsp" : "s8_conv2d_dsp";
  return true;
}

}  // namespace personcls::arm_dsp
