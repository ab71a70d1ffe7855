#include "ops/global_avg_pool.h"

#include <cstdint>
#include <vector>

namespace personcls::ops {

void global_avg_pool_forward(int n, int h, int w, int c, const float* x, float* y) {
  PCLS_OPS_CHECK(n >= 1 && h >= 1 && w >= 1 && c >= 1, "sizes must be >= 1");
  PCLS_OPS_CHECK(x && y, "null pointer");
  const int64_t hw = int64_t{h} * w;
  const double inv = 1.0 / static_cast<double>(hw);
#pragma omp parallel for schedule(static) if (int64_t{n} * hw * c >= GetTuning().parallel_min_elems && n > 1)
  for (int b = 0; b < n; ++b) {
    std::vector<double> acc(c, 0.0);
    const float* xb = x + b * hw * c;
    for (int64_t p = 0; p < hw; ++p)
      for (int i = 0; i < c; ++i) acc[i] += xb[p * c + i];
    for (int i = 0; i < c; ++i) y[int64_t{b} * c + i] = static_cast<float>(acc[i] * inv);
  }
}

void global_avg_pool_backward(int n, int h, int w, int c, const float* dy, float* dx, GradMode mode) {
  PCLS_OPS_CHECK(n >= 1 && h >= 1 && w >= 1 && c >= 1, "sizes must be >= 1");
  PCLS_OPS_CHECK(dy && dx, "null pointer");
  const bool accumulate = mode == GradMode::kAccumulate;
  const int64_t hw = int64_t{h} * w;
  const float inv = static_cast<float>(1.0 / static_cast<double>(hw));
#pragma omp parallel for schedule(static) if (int64_t{n} * hw * c >= GetTuning().parallel_min_elems && n > 1)
  for (int b = 0; b < n; ++b) {
    const float* g = dy + int64_t{b} * c;
    float* d = dx + b * hw * c;
    for (int64_t p = 0; p < hw; ++p)
      for (int i = 0; i < c; ++i) d[p * c + i] = accumulate ? d[p * c + i] + g[i] * inv : g[i] * inv;
  }
}

}  // namespace personcls::ops
