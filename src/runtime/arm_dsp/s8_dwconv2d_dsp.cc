// s8_dwconv2d_dsp: int8 DEPTHWISE_CONV_2D (depth multiplier 1; any kernel size, stride,
// dilation, padding, per-channel or per-tensor requantization) for the Arm DSP
// extension, bit-exact with ref::s8_dwconv2d.
//
// Channels are contiguous in NHWC, so 4 channels of one tap are one word of input and
// one of weights: SXTAB16 splits the input word into (x0,x2) and (x1,x3) with the input
// offset added, SXTB16 the weights likewise, and SMLABB/SMLATT accumulate the 4 channels
// (10 instructions per 4 MACs; the reference takes about 10 per MAC). Padding taps are
// skipped, as the reference skips them. Channels past the last multiple of 4 are done
// one at a time.
#include "runtime/arm_dsp/dsp_intrinsics.h"
#include "runtime/arm_dsp/dsp_kernels.h"
#include "runtime/arm_dsp/dsp_requant.h"

namespace personcls::arm_dsp {
namespace {

template <bool kFastRequant>
inline int8_t Requant(const S8Requant& q, int c, int32_t acc) {
  const int ch = q.per_tensor ? 0 : c;
  const int32_t v = kFastRequant ? MultiplyByQuantizedMultiplierFast(acc, q.multiplier[ch], q.shift[ch])
                                 : MultiplyByQuantizedMultiplier(acc, q.multiplier[ch], q.shift[ch]);
  int32_t r = __ssat(v + q.output_offset, 8);
  r = r < q.act_min ? q.act_min : (r > q.act_max ? q.act_max : r);
  return static_cast<int8_t>(r);
}

template <bool kFastRequant>
void S8DwConv2d(const ConvGeometry& geometry, const S8Requant& q, const int8_t* input, const int8_t* filter, const int32_t* bias,
                int8_t* output, void*, const void*) {
  const ConvGeometry g = geometry;
  const int channels = g.in_c;  // depth multiplier 1: out_c == in_c
  const int groups = channels / 4;
  const int32_t offset_pair = PairOf(q.input_offset);
  for (int n = 0; n < g.batch; ++n) {
    const int8_t* image = input + n * g.in_h * g.in_w * channels;
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int in_y0 = oy * g.stride_h - g.pad_top;
      // Rows of taps inside the image.
      int ky0 = 0, ky1 = g.k_h;
      while (ky0 < ky1 && in_y0 + ky0 * g.dilation_h < 0) ++ky0;
      while (ky1 > ky0 && in_y0 + (ky1 - 1) * g.dilation_h >= g.in_h) --ky1;
      for (int ox = 0; ox < g.out_w; ++ox, output += channels) {
        const int in_x0 = ox * g.stride_w - g.pad_left;
        int kx0 = 0, kx1 = g.k_w;
        while (kx0 < kx1 && in_x0 + kx0 * g.dilation_w < 0) ++kx0;
        while (kx1 > kx0 && in_x0 + (kx1 - 1) * g.dilation_w >= g.in_w) --kx1;
        for (int c4 = 0; c4 < groups; ++c4) {
          const int c = 4 * c4;
          int32_t a0 = bias ? bias[c] : 0, a1 = bias ? bias[c + 1] : 0, a2 = bias ? bias[c + 2] : 0, a3 = bias ? bias[c + 3] : 0;
          for (int ky = ky0; ky < ky1; ++ky) {
            const int8_t* in_row = image + ((in_y0 + ky * g.dilation_h) * g.in_w + in_x0) * channels + c;
            const int8_t* w_row = filter + ky * g.k_w * channels + c;
            for (int kx = kx0; kx < kx1; ++kx) {
              const uint32_t x = Load32(in_row + kx * g.dilation_w * channels);
              const uint32_t w = Load32(w_row + kx * channels);
              const int32_t xa = Sxtab16(offset_pair, x), xb = Sxtab16Ror8(offset_pair, x);
              const int32_t wa = Sxtb16(w), wb = Sxtb16Ror8(w);
              a0 = Smlabb(xa, wa, a0);
              a2 = Smlatt(xa, wa, a2);
              a1 = Smlabb(xb, wb, a1);
              a3 = Smlatt(xb, wb, a3);
            }
          }
          output[c] = Requant<kFastRequant>(q, c, a0);
          output[c + 1] = Requant<kFastRequant>(q, c + 1, a1);
          output[c + 2] = Requant<kFastRequant>(q, c + 2, a2);
          output[c + 3] = Requant<kFastRequant>(q, c + 3, a3);
        }
        for (int c = 4 * groups; c < channels; ++c) {
          int32_t acc = bias ? bias[c] : 0;
          for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = kx0; kx < kx1; ++kx) {
              const int32_t x = image[((in_y0 + ky * g.dilation_h) * g.in_w + in_x0 + kx * g.dilation_w) * channels + c];
              acc += filter[(ky * g.k_w + kx) * channels + c] * (x + q.input_offset);
            }
          output[c] = Requant<kFastRequant>(q, c, acc);
        }
      }
    }
  }
}

}  // namespace

bool SelectS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t*, const int32_t* bias, PreparedAllocator&, McuS8Conv* out) {
  if (g.depth_multiplier != 1 || q.input_offset < -128 || q.input_offset > 128) return false;
  const bool fast = FastRequantValid(q, g.out_c, int64_t{g.k_h} * g.k_w, 255, 128, bias);
  out->run = fast ? S8DwConv2d<true> : S8DwConv2d<false>;
  out->extra = nullptr;
  out->scratch_bytes = 0;
  out->name = "s8_dwconv2d_dsp";
  return true;
}

}  // namespace personcls::arm_dsp
