// host::ParallelFor and its pool: every task runs exactly once, slots stay below the thread
// count and are never used by two threads at once, nested and concurrent calls complete.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "runtime/host/thread_pool.h"

namespace personcls {
namespace {

class ThreadPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host::ReserveThreads(4);
    host::SetFineSplittingForTesting(true);  // ignore machine load: really use the workers
  }
  void TearDown() override { host::SetFineSplittingForTesting(false); }
};

TEST_F(ThreadPoolTest, EveryTaskOnceAndSlotsExclusive) {
  EXPECT_GE(host::ReservedThreads(), 4);
  for (int threads : {1, 2, 3, 4, 7}) {
    for (int tasks : {0, 1, 2, 3, 5, 17, 64, 1000}) {
      std::vector<std::atomic<int>> runs(tasks);
      std::vector<std::atomic<int>> in_slot(host::kMaxThreads);
      std::atomic<int> bad_slot{0}, shared_slot{0};
      host::ParallelFor(threads, tasks, [&](int task, int slot) {
        if (slot < 0 || slot >= threads) ++bad_slot;
        if (in_slot[slot].fetch_add(1) != 0) ++shared_slot;
        runs[task].fetch_add(1);
        volatile double x = task;
        for (int i = 0; i < 200; ++i) x = x * 1.0001 + 1;  // a little work so workers join
        in_slot[slot].fetch_sub(1);
      });
      for (int t = 0; t < tasks; ++t) ASSERT_EQ(runs[t].load(), 1) << "task " << t << " of " << tasks << ", " << threads << " threads";
      EXPECT_EQ(bad_slot.load(), 0);
      EXPECT_EQ(shared_slot.load(), 0);
    }
  }
}

TEST_F(ThreadPoolTest, WorkersTakePart) {
  // With enough work per task a worker joins at least once in 200 jobs (it spins between
  // jobs). Only checks the pool works at all; results never depend on it.
  std::atomic<int> by_workers{0};
  for (int job = 0; job < 200 && by_workers.load() == 0; ++job) {
    host::ParallelFor(2, 16, [&](int, int slot) {
      volatile double x = 0;
      for (int i = 0; i < 20000; ++i) x = x * 1.0001 + 1;
      if (slot != 0) ++by_workers;
    });
  }
  EXPECT_GT(by_workers.load(), 0);
}

TEST_F(ThreadPoolTest, NestedCallsRunInline) {
  std::atomic<int> inner{0};
  host::ParallelFor(2, 8, [&](int, int) { host::ParallelFor(2, 5, [&](int, int slot) { inner += slot == 0 ? 1 : 100; }); });
  EXPECT_EQ(inner.load(), 8 * 5);  // the inner loops ran on their callers, slot 0
}

TEST_F(ThreadPoolTest, ConcurrentCallersBothComplete) {
  constexpr int kJobs = 300, kTasks = 13;
  std::atomic<int> sum[2] = {0, 0};
  auto caller = [&](int id) {
    for (int j = 0; j < kJobs; ++j) host::ParallelFor(3, kTasks, [&](int task, int) { sum[id] += task + 1; });
  };
  std::thread a(caller, 0), b(caller, 1);
  a.join();
  b.join();
  EXPECT_EQ(sum[0].load(), kJobs * kTasks * (kTasks + 1) / 2);
  EXPECT_EQ(sum[1].load(), kJobs * kTasks * (kTasks + 1) / 2);
}

}  // namespace
}  // namespace personcls
