// Shared pieces of the fp32 training ops (src/ops): how backward passes write their
// gradients, argument checks, the reusable scratch workspace, and the threading knobs.
//
// Every op takes raw float pointers plus shapes (see core/tensor.h for the conventions:
// NHWC activations, OHWI conv weights, [out, in] linear weights). Ops never allocate their
// outputs; scratch memory comes from a Workspace.
//
// Threading: ops run OpenMP parallel regions with omp_get_max_threads() threads (2 on the
// training machine; set OMP_NUM_THREADS or omp_set_num_threads to change it). Results are
// BIT-IDENTICAL for any thread count: work is split into pieces whose boundaries depend
// only on the shapes and on Tuning (never on the number of threads), every output element
// or partial sum is computed by exactly one thread, and partial sums are combined in a
// fixed order. tests/ops/ops_grad_test.cc checks 1 vs 2 threads with memcmp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace personcls::ops {

// How a backward function writes a gradient buffer:
//   kOverwrite:  grad = value (the old contents are never read; may be uninitialized)
//   kAccumulate: grad += value (for tensors used by several consumers, and for gradient
//                accumulation over micro-batches)
// Every gradient pointer may be nullptr: that gradient is then not computed.
enum class GradMode { kOverwrite, kAccumulate };

// Programmer errors (bad shapes, null required pointers) throw std::invalid_argument.
#define PCLS_OPS_CHECK(cond, msg)                                                           \
  do {                                                                                      \
    if (!(cond)) throw std::invalid_argument(std::string(__func__) + ": " + (msg)); \
  } while (0)

// Growable 64-byte aligned float scratch buffer, reused across calls. Not thread-safe:
// an op reserves everything it needs before its parallel region and hands each thread a
// disjoint part. Contents are unspecified on return from Reserve.
class Workspace {
 public:
  Workspace() = default;
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // At least `floats` floats, 64-byte aligned. Invalidates earlier pointers when it grows.
  float* Reserve(size_t floats);
  size_t capacity() const { return capacity_; }
  // Frees the memory.
  void Release();

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

// The calling thread's default workspace, used when an op is given ws == nullptr.
Workspace& ThreadWorkspace();

// Rounds n up to a multiple of 16 floats (64 bytes), for carving a Workspace into parts.
inline size_t AlignFloats(size_t n) { return (n + 15) / 16 * 16; }

// Knobs that decide how work is split. They change the float rounding of some reductions
// (never the thread count). Tests shrink them to exercise the parallel paths on tiny shapes.
struct Tuning {
  int64_t parallel_min_elems = 1 << 15;  // elementwise ops: run serially below this size
  int64_t elementwise_grain = 4096;      // elementwise ops: elements per parallel block
  int conv_rows_per_chunk = 0;           // conv im2col chunk (output pixels); 0 = auto from K
  int64_t reduce_rows_per_slot = 1024;   // row reductions: at least this many rows per slot
  int max_slots = 8;                     // row reductions: at most this many partial sums
  int rep_chain_rows_per_chunk = 0;      // rep_chain passes: rows per chunk; 0 = auto from C
};
const Tuning& GetTuning();
void SetTuning(const Tuning& t);

// omp_get_max_threads(), or 1 without OpenMP.
int MaxThreads();
// omp_get_thread_num(), or 0 outside a parallel region.
int ThreadIndex();

}  // namespace personcls::ops
