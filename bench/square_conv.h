// Geometry of a square convolution layer for the kernel benchmarks (kernels_bench.cc,
// peers/conv_efficiency.cc): size x size x in_c input, k x k filter, stride, SAME or VALID.
#pragma once

#include "runtime/kernel_params.h"

namespace personcls::bench {

inline ConvGeometry SquareConvGeometry(int size, int in_c, int out_c, int k, int stride, bool same) {
  ConvGeometry g;
  g.in_h = g.in_w = size;
  g.in_c = in_c;
  g.out_c = out_c;
  g.k_h = g.k_w = k;
  g.stride_h = g.stride_w = stride;
  g.out_h = g.out_w = ConvOutputSize(same, size, k, stride, 1);
  g.pad_top = g.pad_left = same ? ConvLeadingPadding(stride, 1, size, k, g.out_h) : 0;
  return g;
}

}  // namespace personcls::bench
