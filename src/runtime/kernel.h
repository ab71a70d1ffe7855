// The op kernel interface of the runtime core (TFLite Micro's Prepare/Eval split, as a
// table of functions rather than classes so that prepared state is plain data).
//
// prepare() sees only tensor descriptions (TensorView, read in place from the model): it
// validates types and shapes, computes every requantization constant, chooses the kernel
// variant, and stores its parameters as plain data obtained from ctx.allocator (which
// lives as long as the interpreter; the core never uses the heap). eval() sees those
// parameters and data pointers and does only arithmetic; it never fails and never
// allocates. Failures in prepare are one-line messages in a Diag.
#pragma once

#include <cstddef>
#include <cstdint>

#include "personcls/types.h"
#include "runtime/diag.h"
#include "runtime/prepared_allocator.h"
#include "runtime/tflite_model.h"

namespace personcls {

class FastKernelFactory;

constexpr int kMaxOpInputs = 4;
constexpr int kMaxOpOutputs = 1;

// Spatial padding of a PAD folded into a convolution (Runtime::Create, fast kernels), in
// rows and columns of the convolution's NHWC input 0.
struct ExplicitPadding {
  int top = 0, bottom = 0, left = 0, right = 0;
};

// What prepare() gets and fills in for one op.
struct PrepareContext {
  OpView op;
  // CONV_2D / DEPTHWISE_CONV_2D only: a folded PAD's padding, applied to input 0 (which is
  // then the PAD's input) before the op's own VALID padding; nullptr when none was folded.
  const ExplicitPadding* folded_padding = nullptr;
  TensorView inputs[kMaxOpInputs];  // inputs[i].index < 0 where an optional input is omitted
  int num_inputs = 0;               // as in the model (may exceed kMaxOpInputs); trailing omitted ones dropped
  TensorView outputs[kMaxOpOutputs];
  int num_outputs = 0;
  PreparedAllocator* allocator = nullptr;
  // Host SIMD kernels (the PC Interpreter), or nullptr: kernels compiled for this target
  // (reference, or the MCU ISA's) only.
  FastKernelFactory* fast_factory = nullptr;
  bool use_fast = true;  // false: reference kernels only

  // Results.
  const void* op_data = nullptr;  // the kernel's prepared parameters
  size_t scratch_bytes = 0;       // arena memory eval() may use while it runs
  const char* kernel_name = "";   // the variant chosen: dtype_op_variant, e.g. "s8_conv2d_ref"
  int64_t macs = 0;               // multiply-accumulates per run

  const TensorView* input(int i) const {
    return i < num_inputs && i < kMaxOpInputs && inputs[i].index >= 0 ? &inputs[i] : nullptr;
  }
  const TensorView& output(int i) const { return outputs[i]; }
  // Allocates the op's parameter block, or fails with a message naming the shortfall.
  template <typename T>
  T* CreateOpData(Diag& d) {
    T* p = allocator->Create<T>();
    if (!p) d.Fail("prepared-data memory exhausted (%lu bytes used)", static_cast<unsigned long>(allocator->used()));
    op_data = p;
    return p;
  }
  template <typename T>
  T* CreateArray(size_t n, Diag& d) {
    T* p = allocator->CreateArray<T>(n);
    if (!p) d.Fail("prepared-data memory exhausted (%lu bytes used)", static_cast<unsigned long>(allocator->used()));
    return p;
  }
};

// What eval() gets: data pointers resolved once the arena is placed.
struct EvalContext {
  const void* inputs[kMaxOpInputs] = {};  // constant data or arena memory; nullptr if omitted
  void* outputs[kMaxOpOutputs] = {};
  void* scratch = nullptr;  // scratch_bytes of arena memory, only during this eval
  int num_threads = 1;      // host SIMD kernels only

  template <typename T>
  const T* in(int i) const { return static_cast<const T*>(inputs[i]); }
  template <typename T>
  T* out(int i) const { return static_cast<T*>(outputs[i]); }
};

struct OpKernel {
  bool (*prepare)(PrepareContext& ctx, Diag& d);
  void (*eval)(const void* op_data, const EvalContext& e);
};

// The kernel for `type`; every OpType has one.
const OpKernel& KernelFor(OpType type);

// Helpers for prepare implementations (each returns false with a message on failure).
bool ExpectInputs(const PrepareContext& ctx, int min, int max, Diag& d);
bool ExpectType(const TensorView& t, DType type, const char* what, Diag& d);
bool ExpectRank(const TensorView& t, int rank, const char* what, Diag& d);
bool ExpectPerTensorQuant(const TensorView& t, const char* what, Diag& d);

}  // namespace personcls
