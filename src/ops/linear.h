// Fully connected layer, fp32 (PyTorch's nn.Linear):
//   x [N, in], w [out, in], b [out] (optional), y [N, out]
//   y = x * w^T + b
// Uses the SGEMM of ops/gemm.h. Parallel over blocks of rows of the batch.
#pragma once

#include "ops/ops_common.h"

namespace personcls::ops {

// bias may be nullptr.
void linear_forward(int n, int in, int out, const float* x, const float* w, const float* bias, float* y);

// Given dy [N, out]: dx = dy * w [N, in], dw = dy^T * x [out, in], db = sum_n dy [out].
// dx, dw, db may be nullptr; `mode` applies to each.
void linear_backward(int n, int in, int out, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db, GradMode mode);

}  // namespace personcls::ops
