#include "ops/add.h"

#include "ops/reduce_internal.h"

namespace personcls::ops {

void add_forward(int64_t n, const float* a, const float* b, float* y) {
  PCLS_OPS_CHECK(n >= 0 && (n == 0 || (a && b && y)), "bad arguments");
  internal::ParallelRange(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] = a[i] + b[i];
  });
}

void add_backward(int64_t n, const float* dy, float* da, float* db, GradMode mode) {
  PCLS_OPS_CHECK(n >= 0 && (n == 0 || dy), "bad arguments");
  const bool accumulate = mode == GradMode::kAccumulate;
  PCLS_OPS_CHECK(!accumulate || (da != dy && db != dy), "accumulating into dy itself");
  internal::ParallelRange(n, [&](int64_t i0, int64_t i1) {
    for (float* d : {da, db}) {
      if (!d || (d == dy && !accumulate)) continue;
      if (accumulate)
        for (int64_t i = i0; i < i1; ++i) d[i] += dy[i];
      else
        for (int64_t i = i0; i < i1; ++i) d[i] = dy[i];
    }
  });
}

}  // namespace personcls::ops
