#include "ops/relu.h"

#include "ops/reduce_internal.h"

namespace personcls::ops {

void relu_forward(int64_t n, const float* x, float* y) {
  PCLS_OPS_CHECK(n >= 0 && (n == 0 || (x && y)), "bad arguments");
  internal::ParallelRange(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
  });
}

void relu_backward(int64_t n, const float* y, const float* dy, float* dx, GradMode mode) {
  PCLS_OPS_CHECK(n >= 0 && (n == 0 || (y && dy && dx)), "bad arguments");
  const bool accumulate = mode == GradMode::kAccumulate;
  internal::ParallelRange(n, [&](int64_t i0, int64_t i1) {
    // PyTorch: grad where !(y <= 0) (NaN passes the gradient through).
    if (accumulate)
      for (int64_t i = i0; i < i1; ++i) dx[i] += y[i] <= 0.0f ? 0.0f : dy[i];
    else
      for (int64_t i = i0; i < i1; ++i) dx[i] = y[i] <= 0.0f ? 0.0f : dy[i];
  });
}

}  // namespace personcls::ops
