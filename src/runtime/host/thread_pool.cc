#include "runtime/host/thread_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PCLS_CPU_RELAX() _mm_pause()
#else
#define PCLS_CPU_RELAX() ((void)0)
#endif

namespace personcls::host {
namespace {

// How long an idle worker spins before it sleeps, and how long the caller spins on
// unfinished tasks before it yields its CPU (to a worker preempted on the same core).
constexpr auto kWorkerSpin = std::chrono::microseconds(10);
constexpr auto kCallerSpin = std::chrono::microseconds(20);

// Spins until pred() or `budget` elapsed (the clock is read every 64 iterations).
template <typename Pred>
bool SpinUntil(Pred pred, std::chrono::microseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (int i = 0;; ++i) {
    if (pred()) return true;
    PCLS_CPU_RELAX();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= deadline) return pred();
  }
}

class ThreadPool {
 public:
  ~ThreadPool() {
    stop_.store(true);
    generation_.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      wake_.notify_all();
    }
    for (std::thread& t : threads_) t.join();
  }

  void Reserve(int threads) {
    const int want = (threads > kMaxThreads ? kMaxThreads : threads) - 1;
    std::lock_guard<std::mutex> lock(reserve_mutex_);
    while (static_cast<int>(threads_.size()) < want) {
      threads_.emplace_back([this] { WorkerLoop(); });
      num_workers_.store(static_cast<int>(threads_.size()), std::memory_order_release);
    }
  }

  int workers() const { return num_workers_.load(std::memory_order_acquire); }

  // False when the pool is running another job (the caller then runs the loop itself).
  bool Run(int threads, int tasks, TaskRef fn) {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    const int workers = num_workers_.load(std::memory_order_acquire);
    if (threads - 1 > workers) threads = workers + 1;
    if (threads <= 1) {
      busy_.store(false, std::memory_order_release);
      return false;
    }
    // Publish. The fields are written while id_ == 0 and no worker reads them then: a
    // worker reads them only after it has counted itself in active_ and seen id_ != 0.
    fn_ = &fn;
    tasks_ = tasks;
    threads_in_job_ = threads;
    next_task_.store(0, std::memory_order_relaxed);
    next_slot_.store(1, std::memory_order_relaxed);
    id_.store(generation_.load() + 1);
    generation_.fetch_add(1);
    // A worker counts itself in sleepers_ and re-checks generation_ under sleep_mutex_
    // before it waits, so either it sees the new generation or we see it counted and
    // notify it once it waits.
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      wake_.notify_all();
    }

    for (int t; (t = next_task_.fetch_add(1, std::memory_order_relaxed)) < tasks;) fn(t, 0);

    // Close the job, then wait for the workers still inside it (each is finishing a task
    // it took, or leaving).
    id_.store(0);
    if (!SpinUntil([this] { return active_.load() == 0; }, kCallerSpin))
      while (active_.load() != 0) std::this_thread::yield();
    busy_.store(false, std::memory_order_release);
    return true;
  }

 private:
  void WorkerLoop() {
    uint32_t seen = generation_.load();
    for (;;) {
      if (!SpinUntil([&] { return generation_.load(std::memory_order_relaxed) != seen; }, kWorkerSpin)) {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
      }
      seen = generation_.load();
      if (stop_.load()) return;
      active_.fetch_add(1);
      if (id_.load() != 0) {  // a live job: fields are visible (seq_cst store of id_ after them)
        const int slot = next_slot_.fetch_add(1, std::memory_order_relaxed);
        if (slot < threads_in_job_) {
          const TaskRef& fn = *fn_;
          for (int t; (t = next_task_.fetch_add(1, std::memory_order_relaxed)) < tasks_;) fn(t, slot);
        }
      }
      active_.fetch_sub(1);
    }
  }

  std::mutex reserve_mutex_;
  std::vector<std::thread> threads_;
  std::atomic<int> num_workers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> busy_{false};
  std::atomic<uint32_t> generation_{0};  // bumped per job
  std::mutex sleep_mutex_;               // idle workers sleep on wake_ under it
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<uint32_t> id_{0};  // generation of the live job, 0 when none
  std::atomic<int> active_{0};   // workers between their check-in and check-out
  std::atomic<int> next_task_{0};
  std::atomic<int> next_slot_{1};
  const TaskRef* fn_ = nullptr;
  int tasks_ = 0;
  int threads_in_job_ = 0;
};

ThreadPool& Pool() {
  static ThreadPool pool;
  return pool;
}

}  // namespace

void ReserveThreads(int threads) {
  if (threads > 1) Pool().Reserve(threads);
}

int ReservedThreads() { return 1 + Pool().workers(); }

namespace {
std::atomic<bool> fine_splitting{false};
}  // namespace

void SetFineSplittingForTesting(bool on) { fine_splitting.store(on, std::memory_order_relaxed); }
bool FineSplittingForTesting() { return fine_splitting.load(std::memory_order_relaxed); }

void ParallelFor(int threads, int tasks, TaskRef fn) {
  if (threads > tasks) threads = tasks;
  if (threads > 1 && Pool().Run(threads, tasks, fn)) return;
  for (int t = 0; t < tasks; ++t) fn(t, 0);
}

}  // namespace personcls::host
