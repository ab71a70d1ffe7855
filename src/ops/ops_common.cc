#include "ops/ops_common.h"

#include <omp.h>

#include <cstdlib>
#include <new>

namespace personcls::ops {

Workspace::~Workspace() { Release(); }

float* Workspace::Reserve(size_t floats) {
  if (floats <= capacity_ && data_) return data_;
  Release();
  const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  data_ = static_cast<float*>(std::aligned_alloc(64, bytes > 0 ? bytes : 64));
  if (!data_) throw std::bad_alloc();
  capacity_ = floats;
  return data_;
}

void Workspace::Release() {
  std::free(data_);
  data_ = nullptr;
  capacity_ = 0;
}

Workspace& ThreadWorkspace() {
  thread_local Workspace ws;
  return ws;
}

namespace {
Tuning g_tuning;
}  // namespace

const Tuning& GetTuning() { return g_tuning; }
void SetTuning(const Tuning& t) { g_tuning = t; }

int MaxThreads() { return omp_get_max_threads(); }
int ThreadIndex() { return omp_get_thread_num(); }

}  // namespace personcls::ops
