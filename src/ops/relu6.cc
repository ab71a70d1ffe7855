#include "ops/relu6.h"

#include "ops/reduce_internal.h"

namespace personcls::ops {

void relu6_forward(int64_t n, const float* x, float* y) {
  PCLS_OPS_CHECK(n >= 0 && (n == 0 || (x && y)), "bad arguments");
  internal::ParallelRange(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float v = x[i];
      y[i] = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    }
  });
}

void relu6_backward(int64_t n, const float* v, const float* dy, float* dx, GradMode mode) {
  PCLS_OPS_CHECK(n >= 0 && (n == 0 || (v && dy && dx)), "bad arguments");
  const bool accumulate = mode == GradMode::kAccumulate;
  internal::ParallelRange(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float g = (v[i] <= 0.0f || v[i] >= 6.0f) ? 0.0f : dy[i];
      dx[i] = accumulate ? dx[i] + g : g;
    }
  });
}

}  // namespace personcls::ops
