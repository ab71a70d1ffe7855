// PlanArena and PlanBuffers (src/runtime/planner.h): buffers alive at the same time never share memory,
// buffers with disjoint lifetimes may, offsets are aligned, and plans are deterministic.
#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "runtime/planner.h"
#include "test_util.h"

namespace personcls {
namespace {

size_t AlignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

bool LifetimesOverlap(const BufferRequest& a, const BufferRequest& b) { return a.first_op <= b.last_op && b.first_op <= a.last_op; }

// Largest sum of bytes alive at any single op: no valid plan can be smaller.
size_t MaxLiveBytes(const std::vector<BufferRequest>& requests) {
  int last = 0;
  for (const BufferRequest& r : requests) last = std::max(last, r.last_op);
  size_t best = 0;
  for (int op = 0; op <= last; ++op) {
    size_t live = 0;
    for (const BufferRequest& r : requests)
      if (r.first_op <= op && op <= r.last_op) live += r.bytes;
    best = std::max(best, live);
  }
  return best;
}

// Every invariant of a valid plan; returns the number of violations (the first few are
// reported).
int CheckPlan(const std::vector<BufferRequest>& requests, const MemoryPlan& plan, size_t alignment) {
  int violations = 0;
  auto report = [&](const std::string& what) {
    if (++violations <= 5) ADD_FAILURE() << what;
  };
  if (plan.offsets.size() != requests.size()) {
    report("plan has " + std::to_string(plan.offsets.size()) + " offsets for " + std::to_string(requests.size()) + " requests");
    return violations;
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    if (plan.offsets[i] % alignment != 0) report("buffer " + std::to_string(i) + " at unaligned offset " + std::to_string(plan.offsets[i]));
    if (plan.offsets[i] + requests[i].bytes > plan.total_bytes)
      report("buffer " + std::to_string(i) + " ends at " + std::to_string(plan.offsets[i] + requests[i].bytes) + " past total " +
             std::to_string(plan.total_bytes));
    for (size_t j = i + 1; j < requests.size(); ++j) {
      if (!LifetimesOverlap(requests[i], requests[j]) || requests[i].bytes == 0 || requests[j].bytes == 0) continue;
      const size_t a0 = plan.offsets[i], a1 = a0 + requests[i].bytes;
      const size_t b0 = plan.offsets[j], b1 = b0 + requests[j].bytes;
      if (a0 < b1 && b0 < a1)
        report("buffers " + std::to_string(i) + " [" + std::to_string(a0) + "," + std::to_string(a1) + ") ops " +
               std::to_string(requests[i].first_op) + ".." + std::to_string(requests[i].last_op) + " and " + std::to_string(j) + " [" +
               std::to_string(b0) + "," + std::to_string(b1) + ") ops " + std::to_string(requests[j].first_op) + ".." +
               std::to_string(requests[j].last_op) + " overlap in memory and in time");
    }
  }
  if (plan.total_bytes < MaxLiveBytes(requests))
    report("total " + std::to_string(plan.total_bytes) + " below the live bytes at some op " + std::to_string(MaxLiveBytes(requests)));
  size_t sum = 0;
  for (const BufferRequest& r : requests) sum += AlignUp(r.bytes, alignment);
  if (plan.total_bytes > sum) report("total " + std::to_string(plan.total_bytes) + " above the sum of all aligned buffers " + std::to_string(sum));
  return violations;
}

TEST(PlanArena, RandomLifetimesNeverOverlapInMemory) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const size_t alignments[] = {1, 4, 16, 64};
  for (int trial = 0; trial < 2000; ++trial) {
    const int num_ops = std::uniform_int_distribution<int>(1, 24)(rng);
    const int n = std::uniform_int_distribution<int>(0, 40)(rng);
    std::vector<BufferRequest> requests;
    for (int i = 0; i < n; ++i) {
      BufferRequest r;
      // Mostly odd sizes, some tiny, some zero, some large and equal (ties).
      const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
      r.bytes = kind == 0 ? 0 : kind == 1 ? 4096 : std::uniform_int_distribution<size_t>(1, kind < 5 ? 17 : 50000)(rng);
      r.first_op = std::uniform_int_distribution<int>(0, num_ops - 1)(rng);
      r.last_op = std::uniform_int_distribution<int>(r.first_op, std::min(num_ops, r.first_op + (kind % 3 == 0 ? num_ops : 3)))(rng);
      requests.push_back(r);
    }
    const size_t alignment = alignments[trial % 4];
    const MemoryPlan plan = PlanArena(requests, alignment);
    SCOPED_TRACE("trial " + std::to_string(trial) + ", " + std::to_string(n) + " buffers, alignment " + std::to_string(alignment));
    ASSERT_EQ(CheckPlan(requests, plan, alignment), 0);
  }
}

TEST(PlanArena, DisjointLifetimesReuseMemory) {
  // A chain: buffer i is written by op i and read by op i+1; at most two are alive at once.
  std::vector<BufferRequest> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({1000, i, i + 1});
  MemoryPlan plan = PlanArena(chain, 16);
  EXPECT_EQ(CheckPlan(chain, plan, 16), 0);
  EXPECT_EQ(plan.total_bytes, 2 * AlignUp(1000, 16));

  // Two buffers that never coexist share offset 0.
  plan = PlanArena({{300, 0, 0}, {200, 1, 1}}, 16);
  EXPECT_EQ(plan.offsets, (std::vector<size_t>{0, 0}));
  EXPECT_EQ(plan.total_bytes, AlignUp(300, 16));

  // Inclusive lifetimes: ending at op 2 and starting at op 2 is an overlap.
  plan = PlanArena({{300, 0, 2}, {200, 2, 3}}, 16);
  EXPECT_EQ(CheckPlan({{300, 0, 2}, {200, 2, 3}}, plan, 16), 0);
  EXPECT_EQ(plan.total_bytes, AlignUp(300, 16) + AlignUp(200, 16));
}

TEST(PlanArena, ChainWithVaryingSizesNeedsOnlyTheLargestAdjacentPair) {
  const size_t sizes[] = {777, 5000, 13, 4096, 3001, 1, 2047};
  std::vector<BufferRequest> chain;
  for (int i = 0; i < 7; ++i) chain.push_back({sizes[i], i, i + 1});
  const MemoryPlan plan = PlanArena(chain, 64);
  EXPECT_EQ(CheckPlan(chain, plan, 64), 0);
  size_t best_pair = 0;
  for (int i = 0; i + 1 < 7; ++i) best_pair = std::max(best_pair, AlignUp(sizes[i], 64) + AlignUp(sizes[i + 1], 64));
  EXPECT_EQ(plan.total_bytes, best_pair);
}

TEST(PlanArena, OffsetsRespectAlignment) {
  std::vector<BufferRequest> requests;
  for (int i = 0; i < 9; ++i) requests.push_back({static_cast<size_t>(1 + 37 * i), 0, 5});  // all alive together
  for (size_t alignment : {1, 8, 16, 64, 128, 4096}) {
    const MemoryPlan plan = PlanArena(requests, alignment);
    EXPECT_EQ(CheckPlan(requests, plan, alignment), 0) << "alignment " << alignment;
    size_t sum = 0;
    for (const BufferRequest& r : requests) sum += AlignUp(r.bytes, alignment);
    EXPECT_EQ(plan.total_bytes, sum) << "all alive at once: the aligned sizes add up";
  }
}

TEST(PlanArena, EdgeCases) {
  MemoryPlan plan = PlanArena({}, 16);
  EXPECT_TRUE(plan.offsets.empty());
  EXPECT_EQ(plan.total_bytes, 0u);

  plan = PlanArena({{5, 0, 0}}, 16);
  EXPECT_EQ(plan.offsets, std::vector<size_t>{0});
  EXPECT_EQ(plan.total_bytes, 16u);

  plan = PlanArena({{0, 0, 3}, {0, 1, 2}}, 16);  // zero-byte buffers take no space
  EXPECT_EQ(plan.total_bytes, 0u);
}

// The plain greedy scan the planner had before its lifetime index: every placed buffer is
// checked against the new one. The indexed planner must give the same plans.
MemoryPlan ScanPlan(const std::vector<BufferRequest>& requests, size_t alignment) {
  auto align = [&](size_t v) { return (v + alignment - 1) / alignment * alignment; };
  std::vector<size_t> order(requests.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first_op < requests[b].first_op;
  });
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> placed;
  for (size_t idx : order) {
    const BufferRequest& r = requests[idx];
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t p : placed)
      if (LifetimesOverlap(requests[p], r)) busy.emplace_back(plan.offsets[p], plan.offsets[p] + align(requests[p].bytes));
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + align(r.bytes) <= begin) break;
      offset = std::max(offset, end);
    }
    plan.offsets[idx] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + align(r.bytes));
    placed.push_back(idx);
  }
  return plan;
}

TEST(PlanArena, SameAsTheFullScan) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 300; ++trial) {
    // Up to 97 ops (odd, prime) and 400 buffers, short and long lifetimes mixed.
    const int num_ops = std::uniform_int_distribution<int>(1, 97)(rng);
    const int n = std::uniform_int_distribution<int>(0, 400)(rng);
    std::vector<BufferRequest> requests;
    for (int i = 0; i < n; ++i) {
      const int kind = std::uniform_int_distribution<int>(0, 5)(rng);
      BufferRequest r;
      r.bytes = kind == 0 ? 0 : std::uniform_int_distribution<size_t>(1, kind < 3 ? 64 : 9000)(rng);
      r.first_op = std::uniform_int_distribution<int>(0, num_ops - 1)(rng);
      r.last_op = std::uniform_int_distribution<int>(r.first_op, kind == 5 ? num_ops : std::min(num_ops, r.first_op + 2))(rng);
      requests.push_back(r);
    }
    const size_t alignment = trial % 2 ? 16 : 1;
    const MemoryPlan got = PlanArena(requests, alignment), want = ScanPlan(requests, alignment);
    ASSERT_EQ(got.offsets, want.offsets) << "trial " << trial;
    ASSERT_EQ(got.total_bytes, want.total_bytes) << "trial " << trial;
    // The portable planner of the runtime core (no heap, O(n^2)) makes the same plan.
    std::vector<size_t> offsets(requests.size() + 1, 7);
    std::unique_ptr<bool[]> placed(new bool[requests.size() + 1]);
    const size_t total = PlanBuffers(requests.data(), requests.size(), alignment, offsets.data(), placed.get());
    offsets.pop_back();
    ASSERT_EQ(offsets, want.offsets) << "trial " << trial;
    ASSERT_EQ(total, want.total_bytes) << "trial " << trial;
  }
}

TEST(PlanArena, LongChainsPlanLikeShortOnes) {
  // 200,000 ops of a chain (what a 200k-node model asks for): two buffers alive at a time,
  // so two buffers' worth of arena, alternating, as for the short chain above.
  std::vector<BufferRequest> chain;
  for (int i = 0; i < 200000; ++i) chain.push_back({100, i, i + 1});
  const MemoryPlan plan = PlanArena(chain, 16);
  EXPECT_EQ(plan.total_bytes, 2 * AlignUp(100, 16));
  for (size_t i = 0; i + 1 < chain.size(); ++i)
    ASSERT_NE(plan.offsets[i], plan.offsets[i + 1]) << "neighbours " << i << " share memory";
}

TEST(PlanArena, Deterministic) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferRequest> requests;
    for (int i = 0; i < 30; ++i) {
      const int first = std::uniform_int_distribution<int>(0, 10)(rng);
      // Few distinct sizes so that the size ordering has many ties.
      requests.push_back({static_cast<size_t>(std::uniform_int_distribution<int>(1, 4)(rng) * 1000), first,
                          first + std::uniform_int_distribution<int>(0, 4)(rng)});
    }
    const MemoryPlan a = PlanArena(requests, 16);
    const MemoryPlan b = PlanArena(requests, 16);
    const std::vector<BufferRequest> copy = requests;
    const MemoryPlan c = PlanArena(copy, 16);
    ASSERT_EQ(a.offsets, b.offsets);
    ASSERT_EQ(a.offsets, c.offsets);
    ASSERT_EQ(a.total_bytes, b.total_bytes);
  }
}

}  // namespace
}  // namespace personcls
