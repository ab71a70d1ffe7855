// Arena planner: packs buffers with known lifetimes into one block of memory.
//
// Greedy by size (as TFLite Micro's GreedyMemoryPlanner): buffers are placed largest first,
// each at the lowest aligned offset that does not overlap any already placed buffer whose
// lifetime intersects its own. Lifetimes are inclusive op indices (>= 0). The buffers that
// intersect a new one are found through an index of lifetimes, so planning a chain of N ops
// costs O(N log N), not O(N^2) (bench/onnx_load_bench.cc); the plan is the same as that of
// the plain scan over all placed buffers (tests/runtime/planner_test.cc).
#pragma once

#include <cstddef>
#include <vector>

namespace personcls {

struct BufferRequest {
  size_t bytes = 0;
  int first_op = 0;  // first op that writes or reads it
  int last_op = 0;   // last op that reads it (inclusive)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request
  size_t total_bytes = 0;
};

MemoryPlan PlanArena(const std::vector<BufferRequest>& requests, size_t alignment = 16);

}  // namespace personcls
