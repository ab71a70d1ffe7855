// Deterministic parallel per-channel reduction over the rows of a [rows, C] matrix (an NHWC
// activation seen as [N*H*W, C]). Private to src/ops.
//
// The rows are cut into S contiguous slots, S depending only on `rows` and Tuning (never
// on the thread count). Each slot is summed by one thread in row order into its own double
// accumulators, and the slots are added in slot order, so the result is the same for any
// number of threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/ops_common.h"

namespace personcls::ops::internal {

inline int ReduceSlots(int64_t rows) {
  const Tuning& t = GetTuning();
  const int64_t per = std::max<int64_t>(1, t.reduce_rows_per_slot);
  const int64_t s = std::min<int64_t>(std::max(1, t.max_slots), (rows + per - 1) / per);
  return static_cast<int>(std::max<int64_t>(1, s));
}

// out[0 .. width) = sum over rows r of the values row_fn(r, acc) adds into acc[0 .. width).
// row_fn(int64_t r, double* acc) must only add into acc.
template <typename RowFn>
void ReduceRows(int64_t rows, int width, RowFn row_fn, double* out) {
  const int slots = ReduceSlots(rows);
  std::vector<double> partial(static_cast<size_t>(slots) * width, 0.0);
#pragma omp parallel for schedule(dynamic, 1) if (slots > 1)
  for (int s = 0; s < slots; ++s) {
    const int64_t r0 = rows * s / slots, r1 = rows * (s + 1) / slots;
    double* acc = partial.data() + static_cast<size_t>(s) * width;
    for (int64_t r = r0; r < r1; ++r) row_fn(r, acc);
  }
  for (int i = 0; i < width; ++i) out[i] = 0.0;
  for (int s = 0; s < slots; ++s)
    for (int i = 0; i < width; ++i) out[i] += partial[static_cast<size_t>(s) * width + i];
}

// Parallel loop over [0, n) for elementwise work, serial below Tuning::parallel_min_elems.
// body(int64_t begin, int64_t end). Elementwise results do not depend on the split.
template <typename Body>
void ParallelRange(int64_t n, Body body) {
  const Tuning& t = GetTuning();
  const int64_t grain = std::max<int64_t>(1, t.elementwise_grain);
  const int64_t blocks = (n + grain - 1) / grain;
  const bool par = n >= t.parallel_min_elems && blocks > 1;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t b = 0; b < blocks; ++b) body(b * grain, std::min(n, (b + 1) * grain));
}

}  // namespace personcls::ops::internal
