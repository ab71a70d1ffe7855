// s8_avgpool2d_mve, s8_maxpool2d_mve: int8 AVERAGE_POOL_2D and MAX_POOL_2D for MVE
// (Helium), bit-exact with ref::s8_avgpool2d / ref::s8_maxpool2d. Per output pixel the
// window's rows are walked once per channel block, channels in the vector lanes:
//   max: 16 channels per VMAX.S8, clamp by VMAX/VMIN, predicated store;
//   average: 4 channels per VLDRB.S32 (widening load) + VADD.I32, then each lane's sum
//   divided by the number of in-bounds taps with rounding half away from zero (scalar
//   SDIV: MVE has no integer division; one per channel against k_h*k_w loads and adds).
// The last block of a row is tail-predicated (VCTP), so nothing past a channel row is read.
#include <arm_mve.h>

#include <algorithm>

#include "runtime/arm_mve/mve_kernels.h"

namespace personcls::arm_mve {
namespace {

void S8MaxPool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output) {
  const int channels = g.in_c;
  const int8x16_t lo = vdupq_n_s8(static_cast<int8_t>(act_min)), hi = vdupq_n_s8(static_cast<int8_t>(act_max));
  for (int n = 0; n < g.batch; ++n) {
    const int8_t* image = input + static_cast<int32_t>(n) * g.in_h * g.in_w * channels;
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox, output += channels) {
        const PoolWindow w = PoolWindowAt(g, oy, ox);
        for (int c = 0; c < channels; c += 16) {
          const mve_pred16_t p = vctp8q(channels - c);
          int8x16_t m = vdupq_n_s8(-128);
          for (int y = w.yb; y < w.ye; ++y) {
            const int8_t* row = image + (y * g.in_w + w.xb) * channels + c;
            for (int x = w.xb; x < w.xe; ++x, row += channels) m = vmaxq_s8(m, vldrbq_z_s8(row, p));
          }
          vstrbq_p_s8(output + c, vminq_s8(vmaxq_s8(m, lo), hi), p);
        }
      }
  }
}

void S8AvgPool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output) {
  const int channels = g.in_c;
  for (int n = 0; n < g.batch; ++n) {
    const int8_t* image = input + static_cast<int32_t>(n) * g.in_h * g.in_w * channels;
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox, output += channels) {
        const PoolWindow w = PoolWindowAt(g, oy, ox);
        const int32_t count = w.taps();
        if (count <= 0) continue;  // as the reference: no average, output left as it was
        const int32_t half = count / 2;
        for (int c = 0; c < channels; c += 4) {
          const mve_pred16_t p = vctp32q(channels - c);
          int32x4_t sum = vdupq_n_s32(0);
          for (int y = w.yb; y < w.ye; ++y) {
            const int8_t* row = image + (y * g.in_w + w.xb) * channels + c;
            for (int x = w.xb; x < w.xe; ++x, row += channels) sum = vaddq_s32(sum, vldrbq_z_s32(row, p));
          }
          int32_t lanes[4];
          vstrwq_s32(lanes, sum);
          const int active = std::min(4, channels - c);
          for (int j = 0; j < active; ++j) {
            const int32_t a = lanes[j];
            const int32_t v = a > 0 ? (a + half) / count : (a - half) / count;
            output[c + j] = static_cast<int8_t>(std::min(std::max(v, act_min), act_max));
          }
        }
      }
  }
}

}  // namespace

bool SelectS8MaxPool2d(const ConvGeometry&, McuS8Pool* out) {
  out->run = S8MaxPool2d;
  out->name = "s8_maxpool2d_mve";
  return true;
}

bool SelectS8AvgPool2d(const ConvGeometry&, McuS8Pool* out) {
  out->run = S8AvgPool2d;
  out->name = "s8_avgpool2d_mve";
  return true;
}

}  // namespace personcls::arm_mve
