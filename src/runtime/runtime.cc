#include "runtime/runtime.h"

#include "runtime/planner.h"

namespace personcls {
namespace {

bool OutOfMemory(const PreparedAllocator& a, Diag& d) {
  return d.Fail("prepared-data memory exhausted (%lu bytes used)", static_cast<unsigned long>(a.used()));
}

// The kernel of a PAD folded into its reader: prepares and runs nothing.
bool PrepareFoldedPad(PrepareContext& ctx, Diag&) {
  ctx.kernel_name = "pad_folded";
  return true;
}
void EvalFoldedPad(const void*, const EvalContext&) {}
const OpKernel kFoldedPadKernel{PrepareFoldedPad, EvalFoldedPad};

constexpr int32_t kMaxFoldedPad = 4096;  // as the PAD kernel accepts

// Folding an explicit PAD into the convolution that reads it. TFLite models pad before a
// stride-2 VALID convolution with a PAD op (the default model has three); copying the padded
// tensor costs more than the convolution that reads it, and its output is the largest
// tensor alive at that point. The convolution can read the unpadded tensor and treat the
// pad as its own padding: for int8 the PAD's value is its output zero point, i.e. the
// convolution's input zero point, which contributes w * (zp - zp) = 0, exactly as a tap the
// reference skips; for float32 the value is 0. So int8 results are bit-identical, float32
// results equal up to the sign of a zero sum.
//
// PAD op `op` folds when it pads only height and width of a rank-4 int8/float32 tensor
// (int8: same per-tensor quantization in and out), its output is not a graph output and is
// read by exactly one op, as input 0 of a CONV_2D or DEPTHWISE_CONV_2D with VALID padding.
// Returns that reader and the padding. Never fails: anything unusual keeps the PAD (whose
// own prepare then reports it).
bool FoldablePad(const TfliteModel& m, const OpView& op, ExplicitPadding& pad, int& reader) {
  if (op.type != OpType::kPad || op.num_inputs != 2 || op.num_outputs != 1 || op.inputs[0] < 0 || op.inputs[1] < 0) return false;
  Diag quiet(nullptr, 0);
  TensorView in, paddings, out;
  if (!m.ReadTensor(op.inputs[0], in, quiet) || !m.ReadTensor(op.inputs[1], paddings, quiet) || !m.ReadTensor(op.outputs[0], out, quiet))
    return false;
  if (in.rank != 4 || out.rank != 4 || in.dtype != out.dtype) return false;
  if (in.dtype != DType::kInt8 && in.dtype != DType::kFloat32) return false;
  if (in.dtype == DType::kInt8 && (out.num_scales != 1 || !in.SameQuantization(out))) return false;
  if (!paddings.is_constant() || paddings.dtype != DType::kInt32 || paddings.rank != 2 || paddings.dims[0] != 4 || paddings.dims[1] != 2)
    return false;
  const int32_t* p = paddings.constant<int32_t>();
  for (int i = 0; i < 8; ++i)
    if (p[i] < 0 || p[i] > kMaxFoldedPad) return false;
  if (p[0] || p[1] || p[6] || p[7]) return false;  // batch or channel padding
  for (int i = 0; i < 4; ++i)
    if (out.dims[i] != in.dims[i] + p[2 * i] + p[2 * i + 1]) return false;
  const int t = op.outputs[0];
  for (int i = 0; i < m.num_outputs(); ++i)
    if (m.output(i) == t) return false;
  int readers = 0;
  OpView other;
  for (int k = 0; k < m.num_ops(); ++k) {
    if (!m.ReadOp(k, other, quiet)) return false;
    for (int i = 0; i < other.num_inputs; ++i)
      if (other.inputs[i] == t) {
        ++readers;
        reader = k;
      }
  }
  if (readers != 1) return false;
  if (!m.ReadOp(reader, other, quiet)) return false;
  if (other.type != OpType::kConv2D && other.type != OpType::kDepthwiseConv2D) return false;
  if (other.options.padding != Padding::kValid || other.num_inputs < 1 || other.inputs[0] != t) return false;
  pad = {p[2], p[3], p[4], p[5]};
  return true;
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
  rt->planner_ = options.planner;
  if (options.use_fast) rt->FoldPads(d);

  for (int k = 0; k < rt->num_ops_; ++k) {
    PrepareContext ctx;
    if (!m.ReadOp(k, ctx.op, d)) return nullptr;
    const OpView& op = ctx.op;
    ctx.num_inputs = op.num_inputs;
    while (ctx.num_inputs > 0 && op.inputs[ctx.num_inputs - 1] < 0) --ctx.num_inputs;  // trailing omitted inputs
    OpRecord& r = rt->ops_[k];
    const int32_t* inputs = op.inputs;
    if (r.has_folded_padding) {
      // The convolution reads the folded PAD's input instead of its output.
      int32_t* rewired = a.CreateArray<int32_t>(static_cast<size_t>(op.num_inputs));
      if (!rewired) return OutOfMemory(a, d), nullptr;
      for (int i = 0; i < op.num_inputs; ++i) rewired[i] = op.inputs[i];
      rewired[0] = r.folded_input;
      inputs = rewired;
      ctx.folded_padding = &r.folded_padding;
    }
    for (int i = 0; i < ctx.num_inputs && i < kMaxOpInputs; ++i)
      if (inputs[i] >= 0) m.ReadTensor(inputs[i], ctx.inputs[i], d);
    ctx.num_outputs = op.num_outputs;
    for (int i = 0; i < ctx.num_outputs && i < kMaxOpOutputs; ++i) m.ReadTensor(op.outputs[i], ctx.outputs[i], d);
    ctx.allocator = &a;
    ctx.fast_factory = options.fast_factory;
    ctx.use_fast = options.use_fast;
    const OpKernel& kernel = r.folded_pad ? kFoldedPadKernel : KernelFor(op.type);
    if (!kernel.prepare(ctx, d)) return d.Prefix("operator %d (%s): ", k, OpTypeName(op.type)), nullptr;
    r.kernel = &kernel;
    r.data = ctx.op_data;
    r.kernel_name = ctx.kernel_name;
    r.inputs = inputs;
    r.outputs = op.outputs;
    // A folded PAD neither reads nor writes a tensor: its output is never materialized.
    r.num_inputs = r.folded_pad ? 0 : static_cast<uint8_t>(ctx.num_inputs);
    r.num_outputs = r.folded_pad ? 0 : static_cast<uint8_t>(ctx.num_outputs);
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

void Runtime::FoldPads(Diag& d) {
  OpView op;
  for (int k = 0; k < num_ops_; ++k) {
    if (!model_.ReadOp(k, op, d)) return;  // Validate() read every op: cannot happen
    ExplicitPadding pad;
    int reader = -1;
    if (!FoldablePad(model_, op, pad, reader)) continue;
    ops_[k].folded_pad = true;
    OpRecord& conv = ops_[reader];
    conv.has_folded_padding = true;
    conv.folded_input = op.inputs[0];
    conv.folded_padding = pad;
  }
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
  // Tensors nobody writes or reads (a folded PAD's output) take no memory.
  for (size_t t = 0; t < nt; ++t)
    if (requests[t].first_op < 0) requests[t] = BufferRequest{0, 0, 0};
  arena_bytes_ = planner_(requests, n, kArenaAlignment, offsets, placed);
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
