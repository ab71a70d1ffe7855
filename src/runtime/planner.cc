#include "runtime/planner.h"

#include <algorithm>
#include <numeric>

namespace personcls {

MemoryPlan PlanArena(const std::vector<BufferRequest>& requests, size_t alignment) {
  const size_t n = requests.size();
  auto align = [&](size_t v) { return (v + alignment - 1) / alignment * alignment; };
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by earlier first use, then index, so plans are deterministic.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first_op < requests[b].first_op;
  });

  MemoryPlan plan;
  plan.offsets.assign(n, 0);
  std::vector<size_t> placed;
  for (size_t idx : order) {
    const BufferRequest& r = requests[idx];
    // Intervals [offset, offset+bytes) of placed buffers alive at the same time, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t p : placed) {
      const BufferRequest& q = requests[p];
      if (q.first_op <= r.last_op && r.first_op <= q.last_op) busy.emplace_back(plan.offsets[p], plan.offsets[p] + align(q.bytes));
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    const size_t need = align(r.bytes);
    for (const auto& [begin, end] : busy) {
      if (offset + need <= begin) break;  // fits in the gap before this interval
      offset = std::max(offset, end);
    }
    plan.offsets[idx] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + need);
    placed.push_back(idx);
  }
  return plan;
}

}  // namespace personcls
