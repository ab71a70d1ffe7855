#include "personcls/micro_interpreter.h"

#include <cstring>

#include "runtime/runtime.h"

namespace personcls {
namespace {

uintptr_t AlignUp(uintptr_t v, uintptr_t a) { return (v + a - 1) / a * a; }

MicroTensor Describe(const Runtime& rt, int t) {
  MicroTensor m;
  TensorView v;
  Diag unused(nullptr, 0);  // cannot fail: Init() read every tensor
  rt.model().ReadTensor(t, v, unused);
  m.data = rt.tensor_data(t);
  m.bytes = static_cast<size_t>(v.num_bytes());
  m.dtype = v.dtype;
  m.rank = v.rank;
  for (int i = 0; i < v.rank; ++i) m.dims[i] = v.dims[i];
  if (v.num_scales > 0) {
    m.scale = v.scale();
    m.zero_point = v.zero_point();
  }
  return m;
}

}  // namespace

bool MicroInterpreter::Init(const void* model, size_t model_bytes, void* arena, size_t arena_bytes, void* prepared,
                            size_t prepared_bytes, MicroKernels kernels) {
  runtime_ = nullptr;
  arena_used_ = prepared_used_ = 0;
  Diag d(error_, sizeof(error_));  // messages go straight to error_: no copy, no stack
  // Without a prepared-data buffer, prepared data fills the front of the arena.
  const bool shared = prepared == nullptr;
  BufferAllocator allocator(shared ? arena : prepared, shared ? arena_bytes : prepared_bytes);
  RuntimeOptions options;
  options.use_fast = kernels == MicroKernels::kFast;
  Runtime* rt = Runtime::Create(static_cast<const uint8_t*>(model), model_bytes, allocator, options, d);
  if (!rt) {
    if (allocator.wanted() > allocator.capacity())
      d.Fail("%s buffer of %lu bytes too small for the prepared data (needs more than %lu)", shared ? "arena" : "prepared-data",
             static_cast<unsigned long>(allocator.capacity()), static_cast<unsigned long>(allocator.wanted()));
    return false;
  }
  prepared_used_ = allocator.used();

  const uintptr_t begin = reinterpret_cast<uintptr_t>(arena) + (shared ? prepared_used_ : 0);
  const uintptr_t aligned = AlignUp(begin, Runtime::kArenaAlignment);
  const uintptr_t end = reinterpret_cast<uintptr_t>(arena) + arena_bytes;
  const size_t available = aligned <= end ? end - aligned : 0;
  // The planner's temporary tables go into the (still unused) arena.
  if (rt->plan_temp_bytes() > available)
    return d.Fail("arena of %lu bytes too small (planning alone needs %lu)", static_cast<unsigned long>(available),
                  static_cast<unsigned long>(rt->plan_temp_bytes()));
  rt->Plan(reinterpret_cast<void*>(aligned));
  if (rt->arena_bytes() > available)
    return d.Fail("arena of %lu bytes too small: the model needs %lu (+%lu of prepared data)", static_cast<unsigned long>(arena_bytes),
                  static_cast<unsigned long>(rt->arena_bytes() + (aligned - reinterpret_cast<uintptr_t>(arena))),
                  static_cast<unsigned long>(prepared_used_));
  rt->SetArena(reinterpret_cast<void*>(aligned));
  std::memset(reinterpret_cast<void*>(aligned), 0, rt->arena_bytes());
  arena_used_ = rt->arena_bytes() + (aligned - reinterpret_cast<uintptr_t>(arena));
  runtime_ = rt;
  return true;
}

void MicroInterpreter::Invoke(MicroProfiler* profiler) { runtime_->Invoke(1, profiler); }

int MicroInterpreter::num_inputs() const { return runtime_->model().num_inputs(); }
int MicroInterpreter::num_outputs() const { return runtime_->model().num_outputs(); }
MicroTensor MicroInterpreter::input(int i) const { return Describe(*runtime_, runtime_->model().input(i)); }
MicroTensor MicroInterpreter::output(int i) const { return Describe(*runtime_, runtime_->model().output(i)); }
int MicroInterpreter::num_ops() const { return runtime_->num_ops(); }
OpType MicroInterpreter::op_type(int k) const { return runtime_->op_type(k); }
const char* MicroInterpreter::kernel_name(int k) const { return runtime_->kernel_name(k); }
int64_t MicroInterpreter::op_macs(int k) const { return runtime_->macs(k); }

}  // namespace personcls
