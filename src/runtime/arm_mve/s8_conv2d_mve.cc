// s8_conv2d_mve: int8 CONV_2D (any kernel size, stride, dilation, padding, per-channel or
// per-tensor requantization) for MVE (Helium), bit-exact with ref::s8_conv2d.
//
// The input offset is folded into the bias: sum_k w*(x + offset) = sum_k w*x + offset *
// sum_k w, where padding taps hold x = -offset (the input zero point, so that w*(x +
// offset) = 0 as in the reference). The folded biases are computed into scratch at the
// start of every run (they cost no prepared memory). An output pixel's receptive field
// is read in place from the input when it has no padding (k_h runs of contiguous taps,
// when those are whole vectors), else gathered (im2col) as int8 with padding = -offset.
// Then 4 output channels at a time (s8_dot4_mve.S: per 16 taps one VLDRB of the field, 4
// of weights read in place, 4 VMLADAVA of 16 int8 MACs each), and the pixel's
// accumulators are requantized 4 at a time (mve_requant.h).
#include <cstring>

#include "runtime/arm_mve/mve_kernels.h"
#include "runtime/arm_mve/mve_requant.h"

// s8_dot4_mve.S. Precondition: segments == 1 or span % 16 == 0 (weight rows advance by
// whole vectors within a run).
extern "C" void pcls_s8_dot4_mve(const int8_t* x, int32_t pitch, int32_t span, int32_t segments, const int8_t* const rows[4],
                                 int32_t acc[4]);

namespace personcls::arm_mve {
namespace {

int DepthK(const ConvGeometry& g) { return g.k_h * g.k_w * g.in_c; }

// sum of k int8 values.
inline int32_t SumInt8(const int8_t* w, int k) {
  int32_t sum = 0;
  int i = 0;
  for (; i + 16 <= k; i += 16) sum = vaddvaq_s8(sum, vldrbq_s8(w + i));
  if (i < k) sum = vaddvaq_s8(sum, vldrbq_z_s8(w + i, vctp8q(k - i)));
  return sum;
}

// Copies n bytes, or fills them with `value`: whole vectors, then one predicated one.
inline void Copy(int8_t* dst, const int8_t* src, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) vstrbq_s8(dst + i, vldrbq_s8(src + i));
  if (i < n) {
    const mve_pred16_t p = vctp8q(n - i);
    vstrbq_p_s8(dst + i, vldrbq_z_s8(src + i, p), p);
  }
}
inline void Fill(int8_t* dst, int8x16_t value, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) vstrbq_s8(dst + i, value);
  if (i < n) vstrbq_p_s8(dst + i, value, vctp8q(n - i));
}

// Output pixel p's receptive field: K int8 values, padding = -offset.
void Im2col(const ConvGeometry& geometry, int8x16_t pad, const int8_t* input, int p, int8_t* col) {
  const ConvGeometry g = geometry;  // locals: int8 stores would make the compiler reload every field
  const int n = p / (g.out_h * g.out_w);
  const int oy = p / g.out_w % g.out_h;
  const int ox = p % g.out_w;
  const int in_y0 = oy * g.stride_h - g.pad_top;
  const int in_x0 = ox * g.stride_w - g.pad_left;
  const int8_t* image = input + n * g.in_h * g.in_w * g.in_c;
  const bool whole_rows = g.dilation_w == 1 && in_x0 >= 0 && in_x0 + g.k_w <= g.in_w;
  const int span = g.k_w * g.in_c;
  for (int ky = 0; ky < g.k_h; ++ky) {
    const int iy = in_y0 + ky * g.dilation_h;
    if (iy < 0 || iy >= g.in_h) {
      Fill(col, pad, span);
      col += span;
      continue;
    }
    if (whole_rows) {  // the taps of this row are contiguous in the input
      Copy(col, image + (iy * g.in_w + in_x0) * g.in_c, span);
      col += span;
      continue;
    }
    for (int kx = 0; kx < g.k_w; ++kx, col += g.in_c) {
      const int ix = in_x0 + kx * g.dilation_w;
      if (ix < 0 || ix >= g.in_w)
        Fill(col, pad, g.in_c);
      else
        Copy(col, image + (iy * g.in_w + ix) * g.in_c, g.in_c);
    }
  }
}

// Per-channel vectors computed once per run into scratch: for every 4 channels, 5
// vectors of int32 in a row (one pointer walks them): folded bias, multiplier, left
// shift, right shift (<= 0) and rounding mask (-1 where the right shift is not 0; see
// mve_requant.h).
constexpr int kTableWords = 5 * 4;  // per 4 channels

int PaddedChannels(int out_c) { return (out_c + 3) / 4 * 4; }

void PrepareChannels(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int k, int32_t* table) {
  const int n = PaddedChannels(g.out_c);
  for (int c = 0; c < n; ++c) {
    int32_t* t = table + c / 4 * kTableWords + c % 4;
    const int row = c < g.out_c ? c : g.out_c - 1;  // lanes past the end repeat the last channel
    // Wrapping arithmetic: the same bits as the reference's sum, for any bias.
    const uint32_t b = bias ? static_cast<uint32_t>(bias[row]) : 0u;
    t[0] = static_cast<int32_t>(b + static_cast<uint32_t>(q.input_offset) * static_cast<uint32_t>(SumInt8(filter + row * k, k)));
    const int ch = q.per_tensor ? 0 : row;
    t[4] = q.multiplier[ch];
    t[8] = q.shift[ch] > 0 ? q.shift[ch] : 0;
    t[12] = q.shift[ch] > 0 ? 0 : q.shift[ch];
    t[16] = t[12] < 0 ? -1 : 0;
  }
}

// Requantizes one pixel's accumulators (+ folded bias) to int8, 4 channels at a time
// (the arithmetic of mve_requant.h, with the rounding predicate as a mask).
void RequantizePixel(const int32_t* table, const S8Requant& q, const int32_t* acc, int out_c, int8_t* out) {
  const int32x4_t lo = vdupq_n_s32(q.act_min), hi = vdupq_n_s32(q.act_max);
  const int32_t offset = q.output_offset;
  for (int c = 0; c < out_c; c += 4, acc += 4, table += kTableWords) {
    const int32x4_t sum = vaddq_s32(vldrwq_s32(acc), vldrwq_s32(table));
    const int32x4_t high = vqrdmulhq_s32(vshlq_s32(sum, vldrwq_s32(table + 8)), vldrwq_s32(table + 4));
    const int32x4_t adjusted = vaddq_s32(high, vandq_s32(vshrq_n_s32(high, 31), vldrwq_s32(table + 16)));
    int32x4_t v = vaddq_n_s32(vrshlq_s32(adjusted, vldrwq_s32(table + 12)), offset);
    v = vminq_s32(vmaxq_s32(v, lo), hi);
    if (c + 4 <= out_c)
      vstrbq_s32(out + c, v);
    else
      vstrbq_p_s32(out + c, v, vctp32q(out_c - c));
  }
}

void S8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* input, const int8_t* filter, const int32_t* bias,
              int8_t* output, void* scratch, const void*) {
  const int k = DepthK(g);
  const int out_c = g.out_c;
  auto* table = static_cast<int32_t*>(scratch);
  PrepareChannels(g, q, filter, bias, k, table);
  int32_t* acc = table + PaddedChannels(out_c) / 4 * kTableWords;  // one pixel's accumulators
  auto* col = reinterpret_cast<int8_t*>(acc + PaddedChannels(out_c));
  const int8x16_t pad = vdupq_n_s8(static_cast<int8_t>(-q.input_offset));
  const int pixels = g.batch * g.out_h * g.out_w;
  const int full_quads = (out_c - 1) / 4;  // quads whose 4 rows all exist; the last one clamps
  const int8_t* last_row = filter + (out_c - 1) * k;
  const int c_last = 4 * full_quads;
  const int8_t* tail1 = c_last + 1 < out_c ? filter + (c_last + 1) * k : last_row;
  const int8_t* tail2 = c_last + 2 < out_c ? filter + (c_last + 2) * k : last_row;
  const int8_t* tail3 = c_last + 3 < out_c ? filter + (c_last + 3) * k : last_row;
  // Receptive fields read in place, as k_h runs of k_w * in_c bytes (one input row each),
  // when the taps of a row are contiguous and whole vectors (or there is one row).
  const int span = g.k_w * g.in_c;
  const int pitch = g.dilation_h * g.in_w * g.in_c;
  const bool in_place = g.dilation_w == 1 && (g.k_h == 1 || span % 16 == 0);
  for (int p = 0; p < pixels; ++p) {
    const int n = p / (g.out_h * g.out_w), oy = p / g.out_w % g.out_h, ox = p % g.out_w;
    const int iy = oy * g.stride_h - g.pad_top, ix = ox * g.stride_w - g.pad_left;
    const bool inside = iy >= 0 && iy + (g.k_h - 1) * g.dilation_h < g.in_h && ix >= 0 && ix + g.k_w <= g.in_w;
    const int8_t* x = col;
    int runs = 1, run = k;
    if (in_place && inside) {
      x = input + ((n * g.in_h + iy) * g.in_w + ix) * g.in_c;
      runs = g.k_h;
      run = span;
    } else {
      Im2col(g, pad, input, p, col);
    }
    const int8_t* rows[4] = {filter, filter + k, filter + 2 * k, filter + 3 * k};
    int32_t* a = acc;
    for (int quad = 0; quad < full_quads; ++quad, a += 4) {
      pcls_s8_dot4_mve(x, pitch, run, runs, rows, a);
      for (const int8_t*& r : rows) r += 4 * k;
    }
    rows[1] = tail1;
    rows[2] = tail2;
    rows[3] = tail3;
    pcls_s8_dot4_mve(x, pitch, run, runs, rows, a);
    RequantizePixel(table, q, acc, out_c, output + p * out_c);
  }
}

}  // namespace

bool SelectS8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t*, const int32_t*, PreparedAllocator&, McuS8Conv* out) {
  if (q.input_offset < -127 || q.input_offset > 128) return false;  // padding must be an int8 (-offset)
  const int k = DepthK(g);
  out->run = S8Conv2d;
  out->extra = nullptr;
  // The channel tables, one pixel's accumulators, then the receptive field.
  out->scratch_bytes = (PaddedChannels(g.out_c) / 4 * kTableWords + PaddedChannels(g.out_c)) * sizeof(int32_t) + k;
  out->name = g.k_h == 1 && g.k_w == 1 ? "s8_conv2d_1x1_mve" : "s8_conv2d_mve";
  return true;
}

}  // namespace personcls::arm_mve
