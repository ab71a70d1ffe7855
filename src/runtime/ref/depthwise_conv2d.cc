#include <algorithm>

#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {

void s8_dwconv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* input, const int8_t* filter, const int32_t* bias,
                 int8_t* output) {
  for (int n = 0; n < g.batch; ++n) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int in_y0 = oy * g.stride_h - g.pad_top;
        const int in_x0 = ox * g.stride_w - g.pad_left;
        for (int ic = 0; ic < g.in_c; ++ic) {
          for (int m = 0; m < g.depth_multiplier; ++m) {
            const int oc = ic * g.depth_multiplier + m;
            int32_t acc = 0;
            for (int ky = 0; ky < g.k_h; ++ky) {
              const int iy = in_y0 + ky * g.dilation_h;
              if (iy < 0 || iy >= g.in_h) continue;
              for (int kx = 0; kx < g.k_w; ++kx) {
                const int ix = in_x0 + kx * g.dilation_w;
                if (ix < 0 || ix >= g.in_w) continue;
                const int32_t in = input[((static_cast<int64_t>(n) * g.in_h + iy) * g.in_w + ix) * g.in_c + ic];
                const int32_t w = filter[(static_cast<int64_t>(ky) * g.k_w + kx) * g.out_c + oc];
                acc += w * (in + q.input_offset);
              }
            }
            if (bias) acc = quant::AddWrapping(acc, bias[oc]);
            const int ch = q.per_tensor ? 0 : oc;
            int32_t v = quant::MultiplyByQuantizedMultiplier(acc, q.multiplier[ch], q.shift[ch]) + q.output_offset;
            output[((static_cast<int64_t>(n) * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = quant::ClampToInt8(v, q.act_min, q.act_max);
          }
        }
      }
    }
  }
}

void f32_dwconv2d(const ConvGeometry& g, F32Clamp clamp, const float* input, const float* filter, const float* bias,
                  float* output) {
  for (int n = 0; n < g.batch; ++n) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int in_y0 = oy * g.stride_h - g.pad_top;
        const int in_x0 = ox * g.stride_w - g.pad_left;
        for (int ic = 0; ic < g.in_c; ++ic) {
          for (int m = 0; m < g.depth_multiplier; ++m) {
            const int oc = ic * g.depth_multiplier + m;
            float acc = 0.0f;
            for (int ky = 0; ky < g.k_h; ++ky) {
              const int iy = in_y0 + ky * g.dilation_h;
              if (iy < 0 || iy >= g.in_h) continue;
              for (int kx = 0; kx < g.k_w; ++kx) {
                const int ix = in_x0 + kx * g.dilation_w;
                if (ix < 0 || ix >= g.in_w) continue;
                acc += input[((static_cast<int64_t>(n) * g.in_h + iy) * g.in_w + ix) * g.in_c + ic] *
                       filter[(static_cast<int64_t>(ky) * g.k_w + kx) * g.out_c + oc];
              }
            }
            if (bias) acc += bias[oc];
            output[((static_cast<int64_t>(n) * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = std::min(std::max(acc, clamp.min), clamp.max);
          }
        }
      }
    }
  }
}

}  // namespace personcls::ref
