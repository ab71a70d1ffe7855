// A persistent thread pool for the inference kernels (it replaces OpenMP there).
//
// Why not OpenMP: libgomp's idle workers spin for long; on a machine whose cores are busy
// with other processes a parallel region then waits for a descheduled worker, and one
// inference took 0.25-2.4 s instead of 0.5 ms (bench/RESULTS.md). This pool:
//  - hands out tasks dynamically: the calling thread starts on them at once and workers
//    take what is left when they get a CPU, so a worker that is not running delays only a
//    task it has already started;
//  - lets idle workers spin briefly (the next layer usually comes within microseconds),
//    then sleep on a condition variable, so they cost nothing between inferences;
//  - runs a job on the calling thread alone when the pool is busy with another caller's
//    job (or when called from inside a task), so concurrent interpreters never wait for
//    each other and nested calls cannot deadlock;
//  - runs jobs on the calling thread alone while the machine is busy (more runnable
//    threads than CPUs, or a worker kept the caller waiting for a descheduled task), so
//    that two threads are not slower than one there (thread_pool.cc says why).
// Which thread runs a task never changes a result: kernels give a task the same
// instruction sequence whichever thread takes it.
//
// The pool is one per process. Its workers are created by ReserveThreads() (at interpreter
// creation, so that Invoke allocates nothing) and joined at exit.
//
// This header is included by the AVX2 translation units, so it declares no standard
// library templates (see x86/aligned_buffer.h for why).
#pragma once

namespace personcls::host {

// A non-owning reference to a callable `void(int task, int slot)`; cheap to copy, no heap.
// `slot` is 0 for the calling thread and 1..threads-1 for the workers that join the job
// (at most one thread per slot at a time): kernels use it to pick a per-thread scratch area.
class TaskRef {
 public:
  template <typename F>
  TaskRef(const F& f)  // NOLINT: implicit on purpose, ParallelFor(n, t, [&](int, int) {...})
      : object_(&f), call_([](const void* o, int task, int slot) { (*static_cast<const F*>(o))(task, slot); }) {}
  void operator()(int task, int slot) const { call_(object_, task, slot); }

 private:
  const void* object_;
  void (*call_)(const void*, int, int);
};

// Makes sure the pool can run `threads` threads at once (the caller and threads - 1
// workers; at most kMaxThreads). Creating threads allocates; call it at init.
constexpr int kMaxThreads = 64;
void ReserveThreads(int threads);

// Runs fn(task, slot) for every task in [0, tasks) on at most `threads` threads, the
// caller included, and returns when all have finished; slot < threads. With threads <= 1,
// a single task, or the pool busy, it is a plain loop on the calling thread (slot 0).
void ParallelFor(int threads, int tasks, TaskRef fn);

// Threads that ParallelFor may use at most right now (1 + workers reserved).
int ReservedThreads();

// Tests only: when on, kernels split even tiny layers into one-row tasks and use every
// thread they are given (their size thresholds are off), and the pool ignores machine
// load, so that small randomized shapes exercise the multi-threaded paths whatever else
// runs. Off by default; results never depend on it.
void SetFineSplittingForTesting(bool on);
bool FineSplittingForTesting();

}  // namespace personcls::host
