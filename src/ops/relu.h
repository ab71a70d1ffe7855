// ReLU, fp32: y = max(x, 0) elementwise over `n` values (any shape).
// NaN propagates (as PyTorch's relu). Parallel over blocks of elements.
#pragma once

#include <cstdint>

#include "ops/ops_common.h"

namespace personcls::ops {

// y[i] = x[i] < 0 ? 0 : x[i]. y may alias x (in place).
void relu_forward(int64_t n, const float* x, float* y);

// dx[i] = y[i] > 0 ? dy[i] : 0, from the forward OUTPUT y (as PyTorch's threshold_backward
// on the result; the forward input x gives the same mask, so either may be passed).
// dx may alias dy. `mode`: overwrite or accumulate into dx (ops_common.h).
void relu_backward(int64_t n, const float* y, const float* dy, float* dx, GradMode mode);

}  // namespace personcls::ops
