// Parameter blocks shared by reference and fast kernels. All of them are filled once at
// prepare time; kernels only read them. Tensor layouts (NHWC activations, OHWI filters,
// 1HW(C*M) depthwise filters) are TFLite's.
#pragma once

#include <cstdint>

namespace personcls {

// Spatial geometry of CONV_2D, DEPTHWISE_CONV_2D and the pools.
struct ConvGeometry {
  int batch = 1;
  int in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int k_h = 1, k_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;  // extra padding of odd totals goes bottom/right
  int depth_multiplier = 1;       // depthwise only: out_c = in_c * depth_multiplier
};

// The in-bounds input window [yb, ye) x [xb, xe) of pooling output pixel (oy, ox) (pools
// have no dilation); empty where the window lies entirely in padding.
struct PoolWindow {
  int yb, ye, xb, xe;
  int32_t taps() const { return (ye - yb) * (xe - xb); }
};
inline PoolWindow PoolWindowAt(const ConvGeometry& g, int oy, int ox) {
  const int y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
  const int y1 = y0 + g.k_h, x1 = x0 + g.k_w;
  return {y0 > 0 ? y0 : 0, y1 < g.in_h ? y1 : g.in_h, x0 > 0 ? x0 : 0, x1 < g.in_w ? x1 : g.in_w};
}

// int8 requantization of an int32 accumulator: out = clamp(MBQM(acc, mult, shift) + out_zp).
struct S8Requant {
  int32_t input_offset = 0;   // -input zero point, added to every input value
  int32_t filter_offset = 0;  // -filter zero point (fully connected only; conv filters are symmetric)
  int32_t output_offset = 0;  // output zero point
  const int32_t* multiplier = nullptr;  // per output channel (or 1 entry when per_tensor)
  const int32_t* shift = nullptr;
  bool per_tensor = false;
  int32_t act_min = -128, act_max = 127;
};

struct F32Clamp {
  float min;
  float max;
};

// SAME/VALID output size and leading padding, as TFLite's ComputePaddingHeightWidth.
inline int ConvOutputSize(bool same, int in, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  if (same) return (in + stride - 1) / stride;
  return (in - effective + stride) / stride;
}
inline int ConvLeadingPadding(int stride, int dilation, int in, int filter, int out) {
  const int effective = (filter - 1) * dilation + 1;
  const int total = ((out - 1) * stride + effective - in);
  return total > 0 ? total / 2 : 0;
}

}  // namespace personcls
