#include "personcls/interpreter.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "runtime/host/thread_pool.h"
#include "runtime/kernel.h"
#include "runtime/pad_folding.h"
#include "runtime/planner.h"

namespace personcls {

namespace {

constexpr size_t kArenaAlignment = 64;

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

struct Interpreter::Impl {
  std::shared_ptr<const Graph> graph;
  FoldedOps exec;  // the graph's ops as run: with fast kernels, PADs folded into convolutions
  InterpreterOptions options;
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::vector<KernelBuffers> buffers;        // per op, pointers resolved after planning
  std::vector<int64_t> tensor_offsets;       // arena offset per activation tensor, -1 if none
  std::vector<int64_t> scratch_offsets;      // arena offset of each op's scratch, -1 if none
  std::unique_ptr<uint8_t, AlignedFree> arena;
  size_t arena_bytes = 0;

  void* TensorData(int index) {
    const TensorDesc& t = graph->tensors[index];
    if (t.is_constant()) return const_cast<uint8_t*>(t.data);
    return arena.get() + tensor_offsets[index];
  }
};

namespace {

// Checks the graph's wiring: every op input exists before the op runs, every activation
// is written once, graph inputs are not written, types are ones the runtime handles.
Status ValidateGraph(const Graph& g) {
  const size_t n = g.tensors.size();
  std::vector<char> available(n, 0);
  for (size_t i = 0; i < n; ++i) available[i] = g.tensors[i].is_constant();
  for (int i : g.inputs) {
    if (g.tensors[i].is_constant()) return Status::Error("graph input " + std::to_string(i) + " is a constant");
    available[i] = 1;
  }
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const OpDesc& op = g.ops[k];
    const std::string where = std::string("operator ") + std::to_string(k) + " (" + OpTypeName(op.type) + ")";
    for (int i : op.inputs)
      if (i >= 0 && !available[i]) return Status::Error(where + ": input tensor " + std::to_string(i) + " is used before it is computed");
    for (int o : op.outputs) {
      if (available[o]) return Status::Error(where + ": output tensor " + std::to_string(o) + " is a constant, a graph input or written twice");
      const DType t = g.tensors[o].dtype;
      if (t != DType::kFloat32 && t != DType::kInt8)
        return Status::Error(where + ": output tensor type " + DTypeName(t) + " not supported");
      available[o] = 1;
    }
  }
  for (int o : g.outputs)
    if (!available[o]) return Status::Error("graph output tensor " + std::to_string(o) + " is never computed");
  return Status::Ok();
}

}  // namespace

Interpreter::Interpreter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Interpreter::~Interpreter() = default;

Expected<std::unique_ptr<Interpreter>> Interpreter::Create(std::shared_ptr<const Graph> graph, InterpreterOptions options) {
  if (!graph) return Status::Error("no graph");
  PCLS_RETURN_IF_ERROR(ValidateGraph(*graph));
  auto impl = std::make_unique<Impl>();
  impl->graph = graph;
  impl->options = options;
  if (impl->options.num_threads < 1) impl->options.num_threads = 1;
  host::ReserveThreads(impl->options.num_threads);
  const Graph& g = *graph;
  impl->exec = FoldPads(g, options.kernels == KernelSet::kFast);
  const std::vector<OpDesc>& ops = impl->exec.ops;

  // Prepare every op.
  for (size_t k = 0; k < ops.size(); ++k) {
    const OpDesc& op = ops[k];
    KernelContext ctx;
    ctx.op = &op;
    ctx.use_fast = options.kernels == KernelSet::kFast;
    ctx.num_threads = impl->options.num_threads;
    if (impl->exec.padding[k]) ctx.folded_padding = &*impl->exec.padding[k];
    for (int i : op.inputs) ctx.inputs.push_back(i >= 0 ? &g.tensors[i] : nullptr);
    while (!ctx.inputs.empty() && !ctx.inputs.back()) ctx.inputs.pop_back();  // trailing omitted inputs
    for (int o : op.outputs) ctx.outputs.push_back(&g.tensors[o]);
    std::unique_ptr<Kernel> kernel = impl->exec.folded[k] ? MakeFoldedPadKernel() : CreateKernel(op.type);
    if (!kernel) return Status::Error("operator " + std::to_string(k) + ": no kernel for " + OpTypeName(op.type));
    Status s = kernel->Prepare(ctx);
    if (!s.ok()) return Status::Error("operator " + std::to_string(k) + " (" + OpTypeName(op.type) + "): " + s.message());
    impl->kernels.push_back(std::move(kernel));
  }

  // Lifetimes: activations live from their producer (or 0 for graph inputs) to their last
  // reader (or the end for graph outputs); scratch lives during its op only.
  const int num_ops = static_cast<int>(ops.size());
  std::vector<BufferRequest> requests;
  std::vector<int> request_tensor;  // tensor index, or -(op+1) for scratch
  std::vector<int> first(g.tensors.size(), -1), last(g.tensors.size(), -1);
  for (int i : g.inputs) first[i] = last[i] = 0;
  for (int k = 0; k < num_ops; ++k) {
    for (int i : ops[k].inputs)
      if (i >= 0 && !g.tensors[i].is_constant()) last[i] = k;
    for (int o : ops[k].outputs) first[o] = last[o] = k;
  }
  for (int o : g.outputs) last[o] = num_ops;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (first[t] < 0) continue;
    requests.push_back({static_cast<size_t>(g.tensors[t].num_bytes()), first[t], last[t]});
    request_tensor.push_back(static_cast<int>(t));
  }
  for (int k = 0; k < num_ops; ++k) {
    const size_t bytes = impl->kernels[k]->scratch_bytes();
    if (bytes == 0) continue;
    requests.push_back({bytes, k, k});
    request_tensor.push_back(-(k + 1));
  }
  const MemoryPlan plan = PlanArena(requests);
  impl->arena_bytes = plan.total_bytes;
  impl->tensor_offsets.assign(g.tensors.size(), -1);
  impl->scratch_offsets.assign(ops.size(), -1);
  for (size_t r = 0; r < requests.size(); ++r) {
    const int t = request_tensor[r];
    if (t >= 0)
      impl->tensor_offsets[t] = static_cast<int64_t>(plan.offsets[r]);
    else
      impl->scratch_offsets[-t - 1] = static_cast<int64_t>(plan.offsets[r]);
  }
  if (plan.total_bytes > options.max_arena_bytes)
    return Status::Error("model needs an arena of " + std::to_string(plan.total_bytes) + " bytes, over the limit of " +
                         std::to_string(options.max_arena_bytes));
  const size_t alloc = (std::max<size_t>(plan.total_bytes, 1) + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  impl->arena.reset(static_cast<uint8_t*>(std::aligned_alloc(kArenaAlignment, alloc)));
  if (!impl->arena) return Status::Error("cannot allocate an arena of " + std::to_string(alloc) + " bytes");
  std::memset(impl->arena.get(), 0, alloc);

  // Resolve every op's data pointers once.
  for (int k = 0; k < num_ops; ++k) {
    KernelBuffers b;
    for (int i : ops[k].inputs) b.inputs.push_back(i >= 0 ? impl->TensorData(i) : nullptr);
    for (int o : ops[k].outputs) b.outputs.push_back(impl->TensorData(o));
    b.scratch = impl->scratch_offsets[k] >= 0 ? impl->arena.get() + impl->scratch_offsets[k] : nullptr;
    b.num_threads = impl->options.num_threads;
    impl->buffers.push_back(std::move(b));
  }
  return std::unique_ptr<Interpreter>(new Interpreter(std::move(impl)));
}

const Graph& Interpreter::graph() const { return *impl_->graph; }
int Interpreter::num_inputs() const { return static_cast<int>(impl_->graph->inputs.size()); }
int Interpreter::num_outputs() const { return static_cast<int>(impl_->graph->outputs.size()); }
const TensorDesc& Interpreter::input_desc(int i) const { return impl_->graph->tensors[impl_->graph->inputs.at(i)]; }
const TensorDesc& Interpreter::output_desc(int i) const { return impl_->graph->tensors[impl_->graph->outputs.at(i)]; }
void* Interpreter::input_data(int i) { return impl_->TensorData(impl_->graph->inputs.at(i)); }
const void* Interpreter::output_data(int i) const { return impl_->TensorData(impl_->graph->outputs.at(i)); }

void Interpreter::Invoke() {
  for (size_t k = 0; k < impl_->kernels.size(); ++k) impl_->kernels[k]->Eval(impl_->buffers[k]);
}

void Interpreter::InvokeProfiled(std::vector<double>& op_seconds) {
  op_seconds.resize(impl_->kernels.size(), 0.0);
  for (size_t k = 0; k < impl_->kernels.size(); ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    impl_->kernels[k]->Eval(impl_->buffers[k]);
    op_seconds[k] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
}

void Interpreter::set_num_threads(int n) {
  impl_->options.num_threads = n < 1 ? 1 : n;
  host::ReserveThreads(impl_->options.num_threads);
  for (KernelBuffers& b : impl_->buffers) b.num_threads = impl_->options.num_threads;
}

size_t Interpreter::arena_bytes() const { return impl_->arena_bytes; }

size_t Interpreter::persistent_bytes() const {
  size_t total = 0;
  for (const auto& k : impl_->kernels) total += k->persistent_bytes();
  return total;
}

std::vector<OpInfo> Interpreter::op_infos() const {
  std::vector<OpInfo> infos;
  for (size_t k = 0; k < impl_->kernels.size(); ++k)
    infos.push_back({impl_->graph->ops[k].type, impl_->kernels[k]->name(), impl_->kernels[k]->macs()});
  return infos;
}

int64_t Interpreter::total_macs() const {
  int64_t total = 0;
  for (const auto& k : impl_->kernels) total += k->macs();
  return total;
}

}  // namespace personcls
