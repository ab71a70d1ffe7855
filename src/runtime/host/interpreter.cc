// The PC Interpreter: personcls::Graph in, the portable runtime core underneath.
//
// The Graph (from any loader: TFLite, ONNX, checkpoints, the quantizer) is serialized to a
// TFLite flatbuffer that the Interpreter owns, and the core runs that flatbuffer exactly as
// firmware runs its model in flash. What the PC adds: heap-backed prepared memory and
// arena, the AVX2 kernels (through a FastKernelFactory) and threads.
#include "personcls/interpreter.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "formats/tflite/tflite_writer.h"
#include "runtime/fast_kernels.h"
#include "runtime/host/thread_pool.h"
#include "runtime/planner.h"
#include "runtime/runtime.h"

namespace personcls {
namespace {

constexpr size_t kHostArenaAlignment = 64;

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

// Prepared memory from the heap, in chunks freed together with the Interpreter.
class HeapAllocator final : public PreparedAllocator {
 public:
  void* Allocate(size_t bytes, size_t align) override {
    if (chunks_.empty() || !Fits(bytes, align)) {
      const size_t size = std::max<size_t>(kChunk, bytes + align);
      chunks_.emplace_back(static_cast<uint8_t*>(std::aligned_alloc(16, (size + 15) / 16 * 16)));
      if (!chunks_.back()) return nullptr;
      chunk_used_ = 0;
      chunk_size_ = size;
    }
    const uintptr_t begin = reinterpret_cast<uintptr_t>(chunks_.back().get()) + chunk_used_;
    const size_t pad = (align - begin % align) % align;
    chunk_used_ += pad + bytes;
    used_ += pad + bytes;
    return reinterpret_cast<void*>(begin + pad);
  }
  size_t used() const override { return used_; }

 private:
  static constexpr size_t kChunk = 16 << 10;
  bool Fits(size_t bytes, size_t align) const {
    const uintptr_t begin = reinterpret_cast<uintptr_t>(chunks_.back().get()) + chunk_used_;
    return (align - begin % align) % align + bytes <= chunk_size_ - chunk_used_;
  }
  std::vector<std::unique_ptr<uint8_t, AlignedFree>> chunks_;
  size_t chunk_used_ = 0, chunk_size_ = 0, used_ = 0;
};

// Owns the AVX2 kernels the core asks for (see runtime/fast_kernels.h). Kernels with
// per-thread scratch are sized for max_threads (InterpreterOptions::num_threads at Create).
class HostFastKernels final : public FastKernelFactory {
 public:
  int max_threads = 1;
  FastKernelChoice S8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* f, const int32_t* b) override {
    return Keep(MakeFastS8Conv2d(g, q, f, b, max_threads));
  }
  FastKernelChoice F32Conv2d(const ConvGeometry& g, F32Clamp c, const float* f, const float* b) override {
    return Keep(MakeFastF32Conv2d(g, c, f, b, max_threads));
  }
  FastKernelChoice S8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* f, const int32_t* b) override {
    return Keep(MakeFastS8DwConv2d(g, q, f, b, max_threads));
  }
  FastKernelChoice F32DwConv2d(const ConvGeometry& g, F32Clamp c, const float* f, const float* b) override {
    return Keep(MakeFastF32DwConv2d(g, c, f, b, max_threads));
  }
  FastKernelChoice S8AvgPool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max) override {
    return Keep(MakeFastS8AvgPool2d(g, act_min, act_max));
  }
  FastKernelChoice F32AvgPool2d(const ConvGeometry& g, F32Clamp c) override { return Keep(MakeFastF32AvgPool2d(g, c)); }
  size_t persistent_bytes() const {
    size_t total = 0;
    for (const auto& k : kernels_) total += k->persistent_bytes();
    return total;
  }

 private:
  FastKernelChoice Keep(std::unique_ptr<FastKernel> k) {
    if (!k) return {};
    names_.push_back(k->name());
    kernels_.push_back(std::move(k));
    return {kernels_.back().get(), names_.back().c_str()};
  }
  std::vector<std::unique_ptr<FastKernel>> kernels_;
  std::deque<std::string> names_;  // stable addresses
};

}  // namespace

struct Interpreter::Impl {
  std::shared_ptr<const Graph> graph;
  InterpreterOptions options;
  std::vector<uint8_t> flatbuffer;  // the Graph as the core reads it
  HeapAllocator prepared;
  HostFastKernels fast;
  Runtime* runtime = nullptr;  // lives in `prepared`
  std::unique_ptr<uint8_t, AlignedFree> arena;
};

Interpreter::Interpreter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Interpreter::~Interpreter() = default;

Expected<std::unique_ptr<Interpreter>> Interpreter::Create(std::shared_ptr<const Graph> graph, InterpreterOptions options) {
  if (!graph) return Status::Error("no graph");
  auto impl = std::make_unique<Impl>();
  impl->graph = graph;
  impl->options = options;
  if (impl->options.num_threads < 1) impl->options.num_threads = 1;
  host::ReserveThreads(impl->options.num_threads);
  impl->fast.max_threads = impl->options.num_threads;
  auto bytes = tflite_format::WriteTflite(*graph);
  if (!bytes.ok()) return bytes.status();
  impl->flatbuffer = std::move(bytes).value();

  RuntimeOptions ro;
  ro.use_fast = options.kernels == KernelSet::kFast;
  ro.fast_factory = ro.use_fast ? &impl->fast : nullptr;
  ro.planner = PlanBuffersIndexed;
  DiagText d;
  impl->runtime = Runtime::Create(impl->flatbuffer.data(), impl->flatbuffer.size(), impl->prepared, ro, d);
  if (!impl->runtime) return Status::Error(d.message());
  Runtime& rt = *impl->runtime;
  std::vector<uint8_t> temp(rt.plan_temp_bytes());
  rt.Plan(temp.data());
  if (rt.arena_bytes() > options.max_arena_bytes)
    return Status::Error("model needs an arena of " + std::to_string(rt.arena_bytes()) + " bytes, over the limit of " +
                         std::to_string(options.max_arena_bytes));
  const size_t alloc = (std::max<size_t>(rt.arena_bytes(), 1) + kHostArenaAlignment - 1) / kHostArenaAlignment * kHostArenaAlignment;
  impl->arena.reset(static_cast<uint8_t*>(std::aligned_alloc(kHostArenaAlignment, alloc)));
  if (!impl->arena) return Status::Error("cannot allocate an arena of " + std::to_string(alloc) + " bytes");
  std::memset(impl->arena.get(), 0, alloc);
  rt.SetArena(impl->arena.get());
  return std::unique_ptr<Interpreter>(new Interpreter(std::move(impl)));
}

const Graph& Interpreter::graph() const { return *impl_->graph; }
int Interpreter::num_inputs() const { return static_cast<int>(impl_->graph->inputs.size()); }
int Interpreter::num_outputs() const { return static_cast<int>(impl_->graph->outputs.size()); }
const TensorDesc& Interpreter::input_desc(int i) const { return impl_->graph->tensors[impl_->graph->inputs.at(i)]; }
const TensorDesc& Interpreter::output_desc(int i) const { return impl_->graph->tensors[impl_->graph->outputs.at(i)]; }
void* Interpreter::input_data(int i) { return impl_->runtime->tensor_data(impl_->graph->inputs.at(i)); }
const void* Interpreter::output_data(int i) const { return impl_->runtime->tensor_data(impl_->graph->outputs.at(i)); }

void Interpreter::Invoke() { impl_->runtime->Invoke(impl_->options.num_threads); }

namespace {

// Adds each op's wall time to op_seconds[k].
class WallClockProfiler final : public MicroProfiler {
 public:
  explicit WallClockProfiler(std::vector<double>& op_seconds) : op_seconds_(op_seconds) {}
  void BeginOp(int) override { start_ = std::chrono::steady_clock::now(); }
  void EndOp(int op) override { op_seconds_[op] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::vector<double>& op_seconds_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

void Interpreter::InvokeProfiled(std::vector<double>& op_seconds) {
  op_seconds.resize(impl_->runtime->num_ops(), 0.0);
  WallClockProfiler profiler(op_seconds);
  impl_->runtime->Invoke(impl_->options.num_threads, &profiler);
}

void Interpreter::set_num_threads(int n) {
  impl_->options.num_threads = n < 1 ? 1 : n;
  host::ReserveThreads(impl_->options.num_threads);
}

size_t Interpreter::arena_bytes() const { return impl_->runtime->arena_bytes(); }

size_t Interpreter::persistent_bytes() const { return impl_->prepared.used() + impl_->fast.persistent_bytes(); }

std::vector<OpInfo> Interpreter::op_infos() const {
  const Runtime& rt = *impl_->runtime;
  std::vector<OpInfo> infos;
  for (int k = 0; k < rt.num_ops(); ++k) infos.push_back({rt.op_type(k), rt.kernel_name(k), rt.macs(k)});
  return infos;
}

int64_t Interpreter::total_macs() const {
  int64_t total = 0;
  for (int k = 0; k < impl_->runtime->num_ops(); ++k) total += impl_->runtime->macs(k);
  return total;
}

}  // namespace personcls
