#include "runtime/host/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>
#endif
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PCLS_CPU_RELAX() _mm_pause()
#else
#define PCLS_CPU_RELAX() ((void)0)
#endif

namespace personcls::host {
namespace {
std::atomic<bool> fine_splitting{false};
}  // namespace

void SetFineSplittingForTesting(bool on) { fine_splitting.store(on, std::memory_order_relaxed); }
bool FineSplittingForTesting() { return fine_splitting.load(std::memory_order_relaxed); }

namespace {

// How long an idle worker spins before it sleeps, and how long the caller spins on
// unfinished tasks before it yields its CPU (to a worker preempted on the same core).
constexpr auto kWorkerSpin = std::chrono::microseconds(300);
constexpr auto kCallerSpin = std::chrono::microseconds(20);

// Contention: on a machine whose cores are busy with other processes, a worker is often
// descheduled while it holds a task, and the caller then waits a whole scheduler time
// slice (milliseconds) for it. When the caller has waited longer than kStragglerLimit
// for workers after finishing its own share, the pool runs jobs on the calling thread
// alone for a while (backoff, doubling while contention persists) and then tries again.
// A task of a kernel takes microseconds, so on an idle machine the wait never gets near
// the limit.
constexpr auto kStragglerLimit = std::chrono::microseconds(200);
constexpr auto kBackoffMin = std::chrono::milliseconds(250);
constexpr auto kBackoffMax = std::chrono::milliseconds(4000);
constexpr int kCleanJobsToReset = 256;  // parallel jobs without contention reset the backoff

// Busy machine: more runnable threads than CPUs. Then our threads share the CPUs with other
// processes' (and Linux gives each process group a fair share, whatever its thread count),
// so a second thread cannot make an inference faster, and every cycle it spends waiting
// for work is taken from the calling thread. The pool then runs jobs on the caller alone.
// Linux reports the runnable count in /proc/loadavg ("0.50 0.40 0.30 RUNNABLE/TOTAL ...");
// it is read at most every kLoadSample, and one busy reading keeps the pool on the caller
// for kBusyHold (the count is a snapshot: it drops below the CPU count now and then even
// on a machine that stays busy).
constexpr auto kLoadSample = std::chrono::milliseconds(20);
constexpr auto kBusyHold = std::chrono::milliseconds(500);

// Runnable threads on the machine now (ours included), or 0 when unknown.
int RunnableThreads() {
#if defined(__linux__)
  const int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  // Skip three load averages, then parse RUNNABLE.
  const char* p = buf;
  for (int field = 0; field < 3 && p; ++field) {
    p = std::strchr(p, ' ');
    if (p) ++p;
  }
  return p ? std::atoi(p) : 0;
#else
  return 0;
#endif
}

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
    const auto start = std::chrono::steady_clock::now();
    if (check_load_ && start - load_sampled_ >= kLoadSample) {
      load_sampled_ = start;
      if (RunnableThreads() > cpus_) busy_until_ = start + kBusyHold;
    }
    const bool contended = check_load_ && (start < busy_until_ || start < serial_until_) && !FineSplittingForTesting();
    if (threads <= 1 || contended) {
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
    if (!SpinUntil([this] { return active_.load() == 0; }, kCallerSpin)) {
      const auto waited_from = std::chrono::steady_clock::now();
      while (active_.load() != 0) std::this_thread::yield();
      const auto now = std::chrono::steady_clock::now();
      if (now - waited_from > kStragglerLimit) {
        backoff_ = backoff_ == decltype(backoff_){} ? kBackoffMin : std::min(2 * backoff_, decltype(backoff_){kBackoffMax});
        serial_until_ = now + backoff_;
        clean_jobs_ = 0;
      }
    } else if (++clean_jobs_ >= kCleanJobsToReset) {
      backoff_ = {};
    }
    busy_.store(false, std::memory_order_release);
    return true;
  }

 private:
  void WorkerLoop() {
    uint32_t seen = generation_.load();
    for (;;) {
      // stop_ counts too: a worker that starts after the destructor's last generation bump
      // (the process exits right after creating an interpreter) must not sleep forever.
      auto woken = [&] { return generation_.load() != seen || stop_.load(); };
      if (!SpinUntil(woken, kWorkerSpin)) {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, woken);
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
  // Contention state, touched only by the caller holding busy_.
  const int cpus_ = static_cast<int>(std::thread::hardware_concurrency());
  // PERSONCLS_BUSY_CHECK=0 turns both contention checks off (for a process that runs at a
  // raised priority, or on cores reserved for it, where other runnable threads do not take
  // its CPUs).
  const bool check_load_ = [] {
    const char* v = std::getenv("PERSONCLS_BUSY_CHECK");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  std::chrono::steady_clock::time_point load_sampled_{};
  std::chrono::steady_clock::time_point busy_until_{};
  std::chrono::steady_clock::time_point serial_until_{};
  std::chrono::microseconds backoff_{};
  int clean_jobs_ = 0;
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


void ParallelFor(int threads, int tasks, TaskRef fn) {
  if (threads > tasks) threads = tasks;
  if (threads > 1 && Pool().Run(threads, tasks, fn)) return;
  for (int t = 0; t < tasks; ++t) fn(t, 0);
}

}  // namespace personcls::host
