#include "ops/linear.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ops/gemm.h"
#include "ops/reduce_internal.h"

namespace personcls::ops {

namespace {

constexpr int kRowsPerBlock = 64;  // batch rows per parallel block (forward and dx)

void Validate(int n, int in, int out) { PCLS_OPS_CHECK(n >= 1 && in >= 1 && out >= 1, "sizes must be >= 1"); }

}  // namespace

void linear_forward(int n, int in, int out, const float* x, const float* w, const float* bias, float* y) {
  Validate(n, in, out);
  PCLS_OPS_CHECK(x && w && y, "null pointer");
  const int blocks = (n + kRowsPerBlock - 1) / kRowsPerBlock;
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1 && int64_t{n} * in * out >= GetTuning().parallel_min_elems)
  for (int blk = 0; blk < blocks; ++blk) {
    const int r0 = blk * kRowsPerBlock, rows = std::min(kRowsPerBlock, n - r0);
    float* yb = y + int64_t{r0} * out;
    if (bias)
      for (int r = 0; r < rows; ++r) std::memcpy(yb + int64_t{r} * out, bias, sizeof(float) * out);
    sgemm(false, true, rows, out, in, x + int64_t{r0} * in, in, w, in, yb, out, bias != nullptr);
  }
}

void linear_backward(int n, int in, int out, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db, GradMode mode) {
  Validate(n, in, out);
  PCLS_OPS_CHECK(dy, "null dy");
  PCLS_OPS_CHECK(!dx || w, "dx needs w");
  PCLS_OPS_CHECK(!dw || x, "dw needs x");
  const bool accumulate = mode == GradMode::kAccumulate;
  if (dx) {
    const int blocks = (n + kRowsPerBlock - 1) / kRowsPerBlock;
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1 && int64_t{n} * in * out >= GetTuning().parallel_min_elems)
    for (int blk = 0; blk < blocks; ++blk) {
      const int r0 = blk * kRowsPerBlock, rows = std::min(kRowsPerBlock, n - r0);
      sgemm(false, false, rows, in, out, dy + int64_t{r0} * out, out, w, in, dx + int64_t{r0} * in, in, accumulate);
    }
  }
  // dw: one GEMM over the whole batch (the reduction runs over N inside sgemm, in order).
  if (dw) sgemm(true, false, out, in, n, dy, out, x, in, dw, in, accumulate);
  if (db) {
    std::vector<double> sums(out);
    internal::ReduceRows(
        n, out,
        [&](int64_t r, double* acc) {
          for (int o = 0; o < out; ++o) acc[o] += dy[r * out + o];
        },
        sums.data());
    for (int o = 0; o < out; ++o) db[o] = accumulate ? db[o] + static_cast<float>(sums[o]) : static_cast<float>(sums[o]);
  }
}

}  // namespace personcls::ops
