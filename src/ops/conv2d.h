// 2-D convolution, fp32, forward and backward (training).
//
//   x  [N, H, W, Cin]          NHWC input
//   w  [Cout, K, K, Cin]       OHWI weights (square kernel K)
//   b  [Cout]                  optional bias (nullptr: none)
//   y  [N, OH, OW, Cout]       OH = (H + 2*pad - K) / stride + 1, likewise OW
//
//   y[n,oy,ox,co] = b[co] + sum_{ky,kx,ci} x[n, oy*stride - pad + ky, ox*stride - pad + kx, ci] * w[co,ky,kx,ci]
// with x = 0 outside the image (zero padding, `pad` on every side, as PyTorch's
// Conv2d(padding=pad)). The network uses K=3/pad=1 (stride 1 and 2) and K=1/pad=0/stride 1
// (see Conv3x3 / Conv1x1); any K >= 1, stride >= 1, 0 <= pad < K works.
//
// Implementation: im2col of a chunk of output pixels into a per-thread workspace, then the
// blocked SGEMM of ops/gemm.h; the 1x1/stride-1/pad-0 case multiplies x directly. dx is
// computed by gathering, for each input pixel, the dy values its taps reach (no scatter,
// so no write conflicts), times the rearranged weights; for stride > 1 the input pixels
// are split into stride x stride phases that each gather only the taps that reach them.
// dw/db are summed over fixed slots of output pixels and the slots are added in order.
// Parallel (OpenMP) over chunks of pixels; results are bit-identical for any thread count
// (see ops_common.h).
#pragma once

#include <cstdint>

#include "ops/ops_common.h"

namespace personcls::ops {

struct Conv2dShape {
  int n = 1, h = 1, w = 1;  // input batch and spatial size
  int cin = 1, cout = 1;
  int kernel = 3;  // square kernel size
  int stride = 1;
  int pad = 1;  // zero padding on every side

  int out_h() const { return (h + 2 * pad - kernel) / stride + 1; }
  int out_w() const { return (w + 2 * pad - kernel) / stride + 1; }
  int64_t input_numel() const { return int64_t{n} * h * w * cin; }
  int64_t output_numel() const { return int64_t{n} * out_h() * out_w() * cout; }
  int64_t weight_numel() const { return int64_t{cout} * kernel * kernel * cin; }
  // Multiply-adds of the forward pass (the backward pass does twice as many).
  int64_t macs() const { return output_numel() * kernel * kernel * cin; }
};

// 3x3, padding 1 (PyTorch Conv2d(cin, cout, 3, stride, padding=1)).
inline Conv2dShape Conv3x3(int n, int h, int w, int cin, int cout, int stride) { return {n, h, w, cin, cout, 3, stride, 1}; }
// 1x1, stride 1, no padding.
inline Conv2dShape Conv1x1(int n, int h, int w, int cin, int cout) { return {n, h, w, cin, cout, 1, 1, 0}; }

// y = conv(x, w) + b. bias may be nullptr. ws: scratch (nullptr: ThreadWorkspace()).
void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y, Workspace* ws = nullptr);

// Gradients of the forward pass given dy [N, OH, OW, Cout]:
//   dx [N, H, W, Cin], dw [Cout, K, K, Cin], db [Cout]
// Each of dx, dw, db may be nullptr (not computed); `mode` says whether the others are
// overwritten or accumulated into (ops_common.h). x is only read when dw != nullptr, w
// only when dx != nullptr.
void conv2d_backward(const Conv2dShape& s, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db, GradMode mode,
                     Workspace* ws = nullptr);

}  // namespace personcls::ops
