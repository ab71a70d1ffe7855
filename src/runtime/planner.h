// Arena planner: packs buffers with known lifetimes into one block of memory.
//
// Greedy by size (as TFLite Micro's GreedyMemoryPlanner): buffers are placed largest first
// (ties: earlier first use, then lower index), each at the lowest aligned offset that does
// not overlap any already placed buffer whose lifetime intersects its own. Lifetimes are
// inclusive op indices (>= 0).
//
// Two implementations of the same plan (tests/runtime/planner_test.cc checks both against
// the plain scan): PlanBuffers, portable core, works in the caller's arrays and allocates
// nothing, O(n^2) time (fine for the few hundred buffers of a firmware model); PlanArena
// (runtime/host/plan_arena.cc, PC only) finds the buffers that intersect a new one through
// an index of lifetimes, so planning a chain of N ops costs O(N log N)
// (bench/onnx_load_bench.cc).
#pragma once

#include <cstddef>
#include <vector>

namespace personcls {

struct BufferRequest {
  size_t bytes = 0;
  int first_op = 0;  // first op that writes or reads it
  int last_op = 0;   // last op that reads it (inclusive)
};

// Fills offsets[0..n) and returns the arena size. `placed` is n bytes of caller scratch.
size_t PlanBuffers(const BufferRequest* requests, size_t n, size_t alignment, size_t* offsets, bool* placed);
using PlanBuffersFn = size_t (*)(const BufferRequest* requests, size_t n, size_t alignment, size_t* offsets, bool* placed);

// Host: the indexed planner.
struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request
  size_t total_bytes = 0;
};
MemoryPlan PlanArena(const std::vector<BufferRequest>& requests, size_t alignment = 16);
// PlanArena behind PlanBuffers' signature (for Runtime::Plan on the PC); `placed` unused.
size_t PlanBuffersIndexed(const BufferRequest* requests, size_t n, size_t alignment, size_t* offsets, bool* placed);

}  // namespace personcls
