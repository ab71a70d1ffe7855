// s8_dwconv2d_mve: int8 DEPTHWISE_CONV_2D (depth multiplier 1; any kernel size, stride,
// dilation, padding, per-channel or per-tensor requantization) for MVE (Helium),
// bit-exact with ref::s8_dwconv2d.
//
// 8 channels at a time, in int16 lanes: per tap VLDRB.S16 of input and weights (widening),
// the input offset added in 16 bits (|x + offset| <= 255), VMULLB/VMULLT.S16 multiply the
// even and odd lanes into two int32 accumulators: 7 instructions per 8 MACs. Padding taps
// are skipped, as the reference skips them. The even and odd accumulators are requantized
// (mve_requant.h) and interleaved back by VMOVNB/VMOVNT. Per-channel parameters are
// rearranged into even/odd vectors in scratch at the start of each run.
#include "runtime/arm_mve/mve_kernels.h"
#include "runtime/arm_mve/mve_requant.h"

namespace personcls::arm_mve {
namespace {

// Per 8 channels: for the even lanes then the odd lanes, 4 int32 each of bias,
// multiplier, left shift, right shift (<= 0), rounding mask.
constexpr int kTableWords = 2 * 5 * 4;

void PrepareTable(const ConvGeometry& g, const S8Requant& q, const int32_t* bias, int32_t* table) {
  const int blocks = (g.out_c + 7) / 8;
  for (int b = 0; b < blocks; ++b)
    for (int lane = 0; lane < 8; ++lane) {
      const int c = 8 * b + lane;
      const int ch = c < g.out_c ? c : g.out_c - 1;  // lanes past the end are never stored
      const int qc = q.per_tensor ? 0 : ch;
      int32_t* t = table + b * kTableWords + (lane % 2) * 20 + lane / 2;
      t[0] = bias ? bias[ch] : 0;
      t[4] = q.multiplier[qc];
      t[8] = q.shift[qc] > 0 ? q.shift[qc] : 0;
      t[12] = q.shift[qc] > 0 ? 0 : q.shift[qc];
      t[16] = t[12] < 0 ? -1 : 0;
    }
}

inline int32x4_t Requantize(int32x4_t acc, const int32_t* t, int32_t offset, int32x4_t lo, int32x4_t hi) {
  const int32x4_t high = vqrdmulhq_s32(vshlq_s32(acc, vldrwq_s32(t + 8)), vldrwq_s32(t + 4));
  const int32x4_t adjusted = vaddq_s32(high, vandq_s32(vshrq_n_s32(high, 31), vldrwq_s32(t + 16)));
  const int32x4_t v = vaddq_n_s32(vrshlq_s32(adjusted, vldrwq_s32(t + 12)), offset);
  return vminq_s32(vmaxq_s32(v, lo), hi);
}

void S8DwConv2d(const ConvGeometry& geometry, const S8Requant& q, const int8_t* input, const int8_t* filter, const int32_t* bias,
                int8_t* output, void* scratch, const void*) {
  const ConvGeometry g = geometry;
  const int channels = g.in_c;
  auto* table = static_cast<int32_t*>(scratch);
  PrepareTable(g, q, bias, table);
  const int16_t offset = static_cast<int16_t>(q.input_offset);
  const int32x4_t lo = vdupq_n_s32(q.act_min), hi = vdupq_n_s32(q.act_max);
  for (int n = 0; n < g.batch; ++n) {
    const int8_t* image = input + n * g.in_h * g.in_w * channels;
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int in_y0 = oy * g.stride_h - g.pad_top;
      int ky0 = 0, ky1 = g.k_h;
      while (ky0 < ky1 && in_y0 + ky0 * g.dilation_h < 0) ++ky0;
      while (ky1 > ky0 && in_y0 + (ky1 - 1) * g.dilation_h >= g.in_h) --ky1;
      for (int ox = 0; ox < g.out_w; ++ox, output += channels) {
        const int in_x0 = ox * g.stride_w - g.pad_left;
        int kx0 = 0, kx1 = g.k_w;
        while (kx0 < kx1 && in_x0 + kx0 * g.dilation_w < 0) ++kx0;
        while (kx1 > kx0 && in_x0 + (kx1 - 1) * g.dilation_w >= g.in_w) --kx1;
        const int32_t* t = table;
        for (int c = 0; c < channels; c += 8, t += kTableWords) {
          const mve_pred16_t p = vctp16q(channels - c);  // lanes past the last channel: not loaded, not stored
          int32x4_t even = vldrwq_s32(t), odd = vldrwq_s32(t + 20);
          for (int ky = ky0; ky < ky1; ++ky) {
            const int8_t* in_row = image + ((in_y0 + ky * g.dilation_h) * g.in_w + in_x0) * channels + c;
            const int8_t* w_row = filter + ky * g.k_w * channels + c;
            for (int kx = kx0; kx < kx1; ++kx) {
              const int16x8_t x = vaddq_n_s16(vldrbq_z_s16(in_row + kx * g.dilation_w * channels, p), offset);
              const int16x8_t w = vldrbq_z_s16(w_row + kx * channels, p);
              even = vaddq_s32(even, vmullbq_int_s16(x, w));
              odd = vaddq_s32(odd, vmulltq_int_s16(x, w));
            }
          }
          even = Requantize(even, t, q.output_offset, lo, hi);
          odd = Requantize(odd, t + 20, q.output_offset, lo, hi);
          int16x8_t packed = vmovnbq_s32(vdupq_n_s16(0), even);
          packed = vmovntq_s32(packed, odd);
          vstrbq_p_s16(output + c, packed, p);
        }
      }
    }
  }
}

}  // namespace

bool SelectS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t*, const int32_t*, PreparedAllocator&, McuS8Conv* out) {
  if (g.depth_multiplier != 1 || q.input_offset < -128 || q.input_offset > 128) return false;
  out->run = S8DwConv2d;
  out->extra = nullptr;
  out->scratch_bytes = (g.out_c + 7) / 8 * kTableWords * sizeof(int32_t);
  out->name = "s8_dwconv2d_mve";
  return true;
}

}  // namespace personcls::arm_mve
