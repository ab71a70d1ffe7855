#include "runtime/runtime.h"

#include "runtime/planner.h"

namespace personcls {
namespace {

bool OutOfMemory(const PreparedAllocator& a, Diag& d) {
  return d.Fail("prepared-data memory exhausted (%lu bytes used)", static_cast<unsigned long>(a.used()));
}

}  // namespace

Runtime* Runtime::Create(const uint8_t* model, size_t model_bytes, PreparedAllocator& a, const RuntimeOptions& options, Diag& d) {
  Runtime* rt = a.Create<Runtime>();
  if (!rt) return OutOfMemory(a, d), nullptr;
  if (!rt->model_.Init(model, model_bytes, d)) return nullptr;
  const TfliteModel& m = rt->model_;
  rt->num_tensors_ = m.num_tensors();
  rt->num_ops_ = m.num_ops();
  rt->tensor_slots_ = a.CreateArray<uintptr_t>(rt->num_tensors_);
  rt->activation_bits_ = a.CreateArray<uint32_t>((rt->num_tensors_ + 31) / 32);
  rt->ops_ = a.CreateArray<OpRecord>(rt->num_ops_);
  if (!rt->tensor_slots_ || !rt->activation_bits_ || !rt->ops_) return OutOfMemory(a, d), nullptr;

  TensorView t;
  for (int i = 0; i < rt->num_tensors_; ++i) {
    if (!m.ReadTensor(i, t, d)) return d.Prefix("tensor %d '%s': ", i, t.name), nullptr;
    if (t.is_constant()) rt->tensor_slots_[i] = reinterpret_cast<uintptr_t>(t.data);
  }
  if (rt->num_ops_ == 0) return d.Fail("subgraph has no operators"), nullptr;
  if (!rt->Validate(d)) return nullptr;

  for (int k = 0; k < rt->num_ops_; ++k) {
    PrepareContext ctx;
    if (!m.ReadOp(k, ctx.op, d)) return nullptr;
    const OpView& op = ctx.op;
    ctx.num_inputs = op.num_inputs;
    while (ctx.num_inputs > 0 && op.inputs[ctx.num_inputs - 1] < 0) --ctx.num_inputs;  // trailing omitted inputs
    for (int i = 0; i < ctx.num_inputs && i < kMaxOpInputs; ++i)
      if (op.inputs[i] >= 0) m.ReadTensor(op.inputs[i], ctx.inputs[i], d);
    ctx.num_outputs = op.num_outputs;
    for (int i = 0; i < ctx.num_outputs && i < kMaxOpOutputs; ++i) m.ReadTensor(op.outputs[i], ctx.outputs[i], d);
    ctx.allocator = &a;
    ctx.fast_factory = options.fast_factory;
    ctx.use_fast = options.use_fast;
    const OpKernel& kernel = KernelFor(op.type);
    if (!kernel.prepare(ctx, d)) return d.Prefix("operator %d (%s): ", k, OpTypeName(op.type)), nullptr;
    OpRecord& r = rt->ops_[k];
    r.kernel = &kernel;
    r.data = ctx.op_data;
    r.kernel_name = ctx.kernel_name;
    r.inputs = op.inputs;
    r.outputs = op.outputs;
    r.num_inputs = static_cast<uint8_t>(ctx.num_inputs);
    r.num_outputs = static_cast<uint8_t>(ctx.num_outputs);
    r.macs = ctx.macs;
    r.scratch_bytes = ctx.scratch_bytes;
    r.type = op.type;
  }
  return rt;
}

// The graph's wiring: every op input exists before the op runs, every activation is
// written once, graph inputs are not written, activations have types the kernels handle.
// Marks activations (graph inputs and op outputs) in activation_bits_.
bool Runtime::Validate(Diag& d) {
  auto mark = [&](int t) { activation_bits_[t / 32] |= 1u << (t % 32); };
  auto is_constant = [&](int t) { return tensor_slots_[t] != 0; };
  for (int i = 0; i < model_.num_inputs(); ++i) {
    const int t = model_.input(i);
    if (is_constant(t)) return d.Fail("graph input %d is a constant", t);
    mark(t);
  }
  OpView op;
  for (int k = 0; k < num_ops_; ++k) {
    if (!model_.ReadOp(k, op, d)) return false;
    for (int i = 0; i < op.num_inputs; ++i) {
      const int t = op.inputs[i];
      if (t < 0 || is_constant(t) || is_activation(t)) continue;
      return d.Fail("operator %d (%s): input tensor %d is used before it is computed", k, OpTypeName(op.type), t);
    }
    for (int i = 0; i < op.num_outputs; ++i) {
      const int t = op.outputs[i];
      if (is_constant(t) || is_activation(t))
        return d.Fail("operator %d (%s): output tensor %d is a constant, a graph input or written twice", k, OpTypeName(op.type), t);
      TensorView v;
      model_.ReadTensor(t, v, d);
      if (v.dtype != DType::kFloat32 && v.dtype != DType::kInt8)
        return d.Fail("operator %d (%s): output tensor type %s not supported", k, OpTypeName(op.type), DTypeName(v.dtype));
      mark(t);
    }
  }
  for (int i = 0; i < model_.num_outputs(); ++i)
    if (!is_activation(model_.output(i))) return d.Fail("graph output tensor %d is never computed", model_.output(i));
  return true;
}

size_t Runtime::plan_temp_bytes() const {
  const size_t n = static_cast<size_t>(num_tensors_) + num_ops_;
  return n * (sizeof(BufferRequest) + sizeof(size_t) + sizeof(bool)) + 16;
}

void Runtime::Plan(void* temp) {
  // Requests: one per tensor (0 bytes unless it is an activation), then one per op for its
  // scratch. Activations live from their producer (op 0 for graph inputs) to their last
  // reader (past the last op for graph outputs); scratch during its op only.
  const size_t nt = static_cast<size_t>(num_tensors_);
  const size_t n = nt + num_ops_;
  uintptr_t p = (reinterpret_cast<uintptr_t>(temp) + 15) / 16 * 16;
  auto* requests = reinterpret_cast<BufferRequest*>(p);
  auto* offsets = reinterpret_cast<size_t*>(p + n * sizeof(BufferRequest));
  auto* placed = reinterpret_cast<bool*>(p + n * (sizeof(BufferRequest) + sizeof(size_t)));
  Diag unused(nullptr, 0);  // cannot fail: Create() read every tensor
  TensorView v;
  for (size_t t = 0; t < nt; ++t) {
    requests[t] = BufferRequest{0, -1, -1};
    if (!is_activation(static_cast<int>(t))) continue;
    model_.ReadTensor(static_cast<int>(t), v, unused);
    requests[t].bytes = static_cast<size_t>(v.num_bytes());
  }
  for (int i = 0; i < model_.num_inputs(); ++i) requests[model_.input(i)].first_op = requests[model_.input(i)].last_op = 0;
  for (int k = 0; k < num_ops_; ++k) {
    const OpRecord& r = ops_[k];
    for (int i = 0; i < r.num_inputs; ++i)
      if (r.inputs[i] >= 0 && is_activation(r.inputs[i])) requests[r.inputs[i]].last_op = k;
    for (int i = 0; i < r.num_outputs; ++i) requests[r.outputs[i]].first_op = requests[r.outputs[i]].last_op = k;
    requests[nt + k] = BufferRequest{r.scratch_bytes, k, k};
  }
  for (int i = 0; i < model_.num_outputs(); ++i) requests[model_.output(i)].last_op = num_ops_;
  arena_bytes_ = PlanBuffers(requests, n, kArenaAlignment, offsets, placed);
  for (size_t t = 0; t < nt; ++t)
    if (is_activation(static_cast<int>(t))) tensor_slots_[t] = offsets[t];
  for (int k = 0; k < num_ops_; ++k) ops_[k].scratch_offset = offsets[nt + k];
}

void Runtime::SetArena(void* arena) { arena_base_ = reinterpret_cast<uintptr_t>(arena); }

void Runtime::Invoke(int num_threads, MicroProfiler* profiler) const {
  for (int k = 0; k < num_ops_; ++k) {
    const OpRecord& r = ops_[k];
    EvalContext e;
    for (int i = 0; i < r.num_inputs; ++i) e.inputs[i] = r.inputs[i] >= 0 ? tensor_data(r.inputs[i]) : nullptr;
    for (int i = 0; i < r.num_outputs; ++i) e.outputs[i] = tensor_data(r.outputs[i]);
    e.scratch = r.scratch_bytes ? reinterpret_cast<void*>(arena_base_ + r.scratch_offset) : nullptr;
    e.num_threads = num_threads;
    if (profiler) profiler->BeginOp(k);
    r.kernel->eval(r.data, e);
    if (profiler) profiler->EndOp(k);
  }
}

}  // namespace personcls
