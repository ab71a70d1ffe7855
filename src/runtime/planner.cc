#include "runtime/planner.h"

namespace personcls {

size_t PlanBuffers(const BufferRequest* requests, size_t n, size_t alignment, size_t* offsets, bool* placed) {
  auto align = [&](size_t v) { return (v + alignment - 1) / alignment * alignment; };
  for (size_t i = 0; i < n; ++i) placed[i] = false;
  size_t total = 0;
  for (size_t step = 0; step < n; ++step) {
    // The next buffer: largest, then earliest first use, then lowest index.
    size_t next = n;
    for (size_t i = 0; i < n; ++i) {
      if (placed[i]) continue;
      if (next == n || requests[i].bytes > requests[next].bytes ||
          (requests[i].bytes == requests[next].bytes && requests[i].first_op < requests[next].first_op))
        next = i;
    }
    const BufferRequest& r = requests[next];
    const size_t need = align(r.bytes);
    // Lowest feasible offset: whenever [offset, offset + need) meets a placed buffer alive
    // at the same time, no offset below that buffer's end can work; jump there.
    size_t offset = 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (size_t p = 0; p < n; ++p) {
        if (!placed[p]) continue;
        const BufferRequest& q = requests[p];
        if (q.first_op > r.last_op || r.first_op > q.last_op) continue;
        const size_t begin = offsets[p], end = offsets[p] + align(q.bytes);
        if (offset < end && begin < offset + need) {
          offset = end;
          moved = true;
        }
      }
    }
    offsets[next] = offset;
    placed[next] = true;
    if (offset + need > total) total = offset + need;
  }
  return total;
}

}  // namespace personcls
