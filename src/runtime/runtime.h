// Runtime: the portable core that runs one TFLite model (the part of personcls that builds
// for the PC and for bare-metal microcontrollers from the same files).
//
// Ownership: the model flatbuffer, the PreparedAllocator's memory and the arena all belong
// to the caller and must outlive the Runtime; the Runtime object itself lives in the
// prepared memory and is never destroyed (it holds no resources). Nothing here uses the
// heap, exceptions, RTTI, threads or files.
//
// Life cycle: Create() reads the model in place and prepares every op (all shape and
// quantization math; prepared parameters go to the allocator), Plan() packs activations
// and scratch into one arena, SetArena() resolves every data pointer, then Invoke() runs
// the ops any number of times without allocating. Public wrappers:
// personcls::MicroInterpreter (caller-provided memory) and personcls::Interpreter (PC).
#pragma once

#include <cstddef>
#include <cstdint>

#include "personcls/micro_interpreter.h"
#include "runtime/diag.h"
#include "runtime/kernel.h"
#include "runtime/planner.h"
#include "runtime/prepared_allocator.h"
#include "runtime/tflite_model.h"

namespace personcls {

struct RuntimeOptions {
  // false: reference kernels only, on the graph as written. true: the fast kernels, and an
  // explicit PAD is folded into the convolution that reads it (FoldablePad in runtime.cc;
  // int8 results stay bit-identical, the PAD's output tensor takes no arena).
  bool use_fast = true;
  FastKernelFactory* fast_factory = nullptr;     // host SIMD kernels (PC), or none
  // The arena planner: PlanBuffers (portable, no heap) or, on the PC, PlanBuffersIndexed
  // (same plan, O(N log N) for graphs of many thousand ops).
  PlanBuffersFn planner = PlanBuffers;
};

class Runtime {
 public:
  static constexpr size_t kArenaAlignment = 16;

  // nullptr on failure (message in `d`, prefixed with the operator it concerns).
  static Runtime* Create(const uint8_t* model, size_t model_bytes, PreparedAllocator& a, const RuntimeOptions& options, Diag& d);

  // Scratch Plan() needs, in bytes (any alignment up to 16 is fine).
  size_t plan_temp_bytes() const;
  // Places every activation and scratch buffer; afterwards arena_bytes() is the size the
  // arena must have. `temp` is plan_temp_bytes() of memory used only during the call
  // (it may be the future arena itself).
  void Plan(void* temp);
  size_t arena_bytes() const { return arena_bytes_; }
  // `arena`: arena_bytes() of memory aligned to kArenaAlignment, kept until the Runtime is
  // abandoned. Call after Plan(); calling again moves everything to a new arena.
  void SetArena(void* arena);

  // Runs every op in order. Requires SetArena(). Never fails, never allocates.
  void Invoke(int num_threads = 1, MicroProfiler* profiler = nullptr) const;

  const TfliteModel& model() const { return model_; }
  int num_ops() const { return num_ops_; }
  OpType op_type(int k) const { return ops_[k].type; }
  const char* kernel_name(int k) const { return ops_[k].kernel_name; }
  int64_t macs(int k) const { return ops_[k].macs; }
  size_t scratch_bytes(int k) const { return ops_[k].scratch_bytes; }
  // Constant data or arena memory of tensor t (arena memory only after SetArena()).
  void* tensor_data(int t) const { return reinterpret_cast<void*>(tensor_slots_[t] + (is_activation(t) ? arena_base_ : 0)); }

 private:
  struct OpRecord {
    const OpKernel* kernel = nullptr;
    const void* data = nullptr;
    const char* kernel_name = "";
    const int32_t* inputs = nullptr;  // tensor indices in the model, -1 = omitted
    const int32_t* outputs = nullptr;
    int64_t macs = 0;
    size_t scratch_bytes = 0;
    size_t scratch_offset = 0;
    uint8_t num_inputs = 0;
    uint8_t num_outputs = 0;
    OpType type = OpType::kAdd;
    // PAD folding (RuntimeOptions::fold_pads): this PAD runs nothing, or this convolution
    // reads folded_input (the PAD's input) with folded_padding around it.
    bool folded_pad = false;
    bool has_folded_padding = false;
    int32_t folded_input = -1;
    ExplicitPadding folded_padding;
  };

  bool is_activation(int t) const { return (activation_bits_[t / 32] >> (t % 32)) & 1u; }
  bool Validate(Diag& d);
  void FoldPads(Diag& d);

  TfliteModel model_;
  int num_tensors_ = 0;
  int num_ops_ = 0;
  OpRecord* ops_ = nullptr;
  uintptr_t* tensor_slots_ = nullptr;  // constant: address; activation: arena offset
  uint32_t* activation_bits_ = nullptr;
  uintptr_t arena_base_ = 0;
  size_t arena_bytes_ = 0;
  PlanBuffersFn planner_ = PlanBuffers;
};

}  // namespace personcls
