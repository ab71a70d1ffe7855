// ReLU6, fp32: y = min(max(x, 0), 6) elementwise over `n` values (any shape), as
// PyTorch's ReLU6 (= Hardtanh(0, 6)). NaN propagates. Parallel over blocks of elements.
#pragma once

#include <cstdint>

#include "ops/ops_common.h"

namespace personcls::ops {

// y may alias x (in place).
void relu6_forward(int64_t n, const float* x, float* y);

// dx[i] = (0 < v[i] < 6) ? dy[i] : 0, strictly, as PyTorch's hardtanh_backward (which
// zeroes the gradient where v <= min or v >= max). v is the forward input x or its output
// y: both give the same mask, so the forward may run in place. dx may alias dy.
void relu6_backward(int64_t n, const float* v, const float* dy, float* dx, GradMode mode);

}  // namespace personcls::ops
