// PlanArena: the PC's O(N log N) arena planner (runtime/planner.h).
#include "runtime/planner.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace personcls {
namespace {

// The placed buffers by lifetime, to find those whose lifetime intersects a new one without
// scanning them all (which made planning quadratic in the op count). An interval [f, l]
// intersects [first, last] iff it is alive at `first` (a stabbing query on a segment tree
// over op indices) or starts in (first, last] (a range of `starts_`); the two sets are
// disjoint, so every intersecting buffer is reported exactly once.
class LifetimeIndex {
 public:
  explicit LifetimeIndex(int points) {
    while (size_ < points) size_ *= 2;
    cover_.resize(2 * static_cast<size_t>(size_));
  }

  void Insert(int first, int last, size_t id) {
    starts_.emplace(first, id);
    // Canonical decomposition of [first, last] (bottom-up segment tree).
    for (int lo = first + size_, hi = last + size_ + 1; lo < hi; lo /= 2, hi /= 2) {
      if (lo & 1) cover_[lo++].push_back(id);
      if (hi & 1) cover_[--hi].push_back(id);
    }
  }

  template <typename F>
  void ForEachIntersecting(int first, int last, F&& f) const {
    for (int node = first + size_; node >= 1; node /= 2)
      for (size_t id : cover_[node]) f(id);
    for (auto it = starts_.upper_bound(first); it != starts_.end() && it->first <= last; ++it) f(it->second);
  }

 private:
  int size_ = 1;
  std::vector<std::vector<size_t>> cover_;  // segment tree nodes: intervals covering the node's range
  std::multimap<int, size_t> starts_;       // first op -> buffer
};

}  // namespace

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

  int points = 1;
  for (const BufferRequest& r : requests) points = std::max(points, r.last_op + 1);
  LifetimeIndex placed(points);
  MemoryPlan plan;
  plan.offsets.assign(n, 0);
  std::vector<std::pair<size_t, size_t>> busy;
  for (size_t idx : order) {
    const BufferRequest& r = requests[idx];
    // Zero-byte buffers come last (largest first) and always land at offset 0: keep them out
    // of the index, where thousands of them (the runtime core asks for one per constant
    // tensor and per op without scratch) would make every later query long.
    if (r.bytes == 0) {
      plan.offsets[idx] = 0;
      continue;
    }
    // Intervals [offset, offset+bytes) of placed buffers alive at the same time, by offset.
    busy.clear();
    placed.ForEachIntersecting(r.first_op, r.last_op, [&](size_t p) { busy.emplace_back(plan.offsets[p], plan.offsets[p] + align(requests[p].bytes)); });
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    const size_t need = align(r.bytes);
    for (const auto& [begin, end] : busy) {
      if (offset + need <= begin) break;  // fits in the gap before this interval
      offset = std::max(offset, end);
    }
    plan.offsets[idx] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + need);
    placed.Insert(r.first_op, r.last_op, idx);
  }
  return plan;
}

size_t PlanBuffersIndexed(const BufferRequest* requests, size_t n, size_t alignment, size_t* offsets, bool*) {
  const MemoryPlan plan = PlanArena(std::vector<BufferRequest>(requests, requests + n), alignment);
  std::copy(plan.offsets.begin(), plan.offsets.end(), offsets);
  return plan.total_bytes;
}

}  // namespace personcls
