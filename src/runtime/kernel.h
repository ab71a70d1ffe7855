// The op kernel interface used by the Interpreter (TFLite Micro's Prepare/Eval split).
//
// Prepare() sees only tensor descriptions: it validates types and shapes, computes every
// requantization constant and packs weights. Eval() sees data pointers and does only
// arithmetic. A Kernel lives as long as its Interpreter; the TensorDescs it points at are
// owned by the Graph the Interpreter keeps alive.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/interpreter.h"
#include "personcls/status.h"

namespace personcls {

// Spatial padding of a PAD folded into a convolution (runtime/pad_folding.h), in rows and
// columns of the convolution's NHWC input 0.
struct ExplicitPadding {
  int top = 0, bottom = 0, left = 0, right = 0;
};

struct KernelContext {
  const OpDesc* op = nullptr;
  // CONV_2D / DEPTHWISE_CONV_2D only: a folded PAD's padding, applied to input 0 before the
  // op's own (VALID) padding. nullptr when no PAD was folded into the op.
  const ExplicitPadding* folded_padding = nullptr;
  std::vector<const TensorDesc*> inputs;  // nullptr where an optional input is omitted
  std::vector<const TensorDesc*> outputs;
  bool use_fast = true;  // false: reference kernels only
  int num_threads = 1;   // threads Eval will be given (fast kernels size per-thread scratch by it)

  const TensorDesc* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  const TensorDesc& output(size_t i) const { return *outputs[i]; }
};

struct KernelBuffers {
  std::vector<const void*> inputs;  // constant data or arena memory; nullptr if omitted
  std::vector<void*> outputs;
  void* scratch = nullptr;  // scratch_bytes() of arena memory, only during this Eval
  int num_threads = 1;

  template <typename T>
  const T* in(size_t i) const { return static_cast<const T*>(inputs[i]); }
  template <typename T>
  T* out(size_t i) const { return static_cast<T*>(outputs[i]); }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status Prepare(const KernelContext& ctx) = 0;
  virtual void Eval(const KernelBuffers& buffers) = 0;
  virtual size_t scratch_bytes() const { return 0; }
  virtual size_t persistent_bytes() const { return 0; }
  virtual int64_t macs() const { return 0; }
  // Name of the kernel variant chosen in Prepare (dtype_op_variant), for info/profiles.
  virtual std::string name() const = 0;
};

// The kernel for `op`; nullptr when the op has no kernel (cannot happen for graphs read by
// our loaders, which reject unknown ops).
std::unique_ptr<Kernel> CreateKernel(OpType type);

// Helpers for Prepare implementations.
Status ExpectInputs(const KernelContext& ctx, size_t min, size_t max);
Status ExpectType(const TensorDesc& t, DType type, const char* what);
Status ExpectRank(const TensorDesc& t, size_t rank, const char* what);
Status ExpectPerTensorQuant(const TensorDesc& t, const char* what);
std::string ShapeString(const std::vector<int32_t>& shape);

}  // namespace personcls
