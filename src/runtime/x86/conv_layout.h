// Geometry helpers shared by the AVX2 convolution kernels.
//
// The kernels read their input through a "padded view": rows -pad_top .. hp - pad_top - 1
// and columns -pad_left .. wp - pad_left - 1 of the input, where positions outside the
// input hold the padding value. Output pixel (oy, ox) and tap (ky, kx) read padded
// position (oy * stride_h + ky * dilation_h, ox * stride_w + kx * dilation_w).
#pragma once

#include <cstdint>

#include "runtime/kernel_params.h"

namespace personcls::x86 {

struct PaddedExtent {
  int h = 0, w = 0;           // rows and columns of the padded view the windows reach
  bool needs_padding = false;  // some window reads outside the input
};

inline PaddedExtent ComputePaddedExtent(const ConvGeometry& g) {
  PaddedExtent e;
  e.h = (g.out_h - 1) * g.stride_h + (g.k_h - 1) * g.dilation_h + 1;
  e.w = (g.out_w - 1) * g.stride_w + (g.k_w - 1) * g.dilation_w + 1;
  e.needs_padding = g.pad_top > 0 || g.pad_left > 0 || e.h - g.pad_top > g.in_h || e.w - g.pad_left > g.in_w;
  return e;
}

// Sanity limits under which all index arithmetic of the kernels fits comfortably (int32
// for per-image offsets, int64 for whole buffers); larger layers use the reference.
inline bool GeometryFits(const ConvGeometry& g) {
  const int64_t in = int64_t{g.in_h} * g.in_w * g.in_c;
  const int64_t out = int64_t{g.out_h} * g.out_w * g.out_c;
  const int64_t pad = (int64_t{g.out_h} * g.stride_h + int64_t{g.k_h} * g.dilation_h) *
                      (int64_t{g.out_w} * g.stride_w + int64_t{g.k_w} * g.dilation_w) * ((g.in_c > g.out_c ? g.in_c : g.out_c) + 16);
  constexpr int64_t kMax = int64_t{1} << 28;
  return g.batch >= 1 && g.in_c >= 1 && g.out_c >= 1 && g.out_h >= 1 && g.out_w >= 1 && g.k_h >= 1 && g.k_w >= 1 &&
         g.stride_h >= 1 && g.stride_w >= 1 && g.dilation_h >= 1 && g.dilation_w >= 1 && in < kMax && out < kMax &&
         pad < kMax && int64_t{g.batch} * (in + out + pad) < (int64_t{1} << 31);
}

// Threads worth using for `work` units (e.g. multiply-accumulates) when a thread should get
// at least `min_per_thread` of them: forking and joining costs microseconds, more than
// the small layers of a tiny model take. Results never depend on the thread count.
inline int ThreadsFor(int64_t work, int64_t min_per_thread, int requested) {
  if (requested <= 1) return 1;
  const int64_t useful = work / min_per_thread;
  return useful < 1 ? 1 : (useful < requested ? static_cast<int>(useful) : requested);
}

}  // namespace personcls::x86
