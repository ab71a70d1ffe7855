// MicroInterpreter: runs a TFLite model with memory the caller provides and no heap at all,
// as TensorFlow Lite Micro's MicroInterpreter does. This is the API for firmware
// (Cortex-M; any C++17 compiler): the same portable runtime core that personcls's PC
// Interpreter uses, with reference kernels or the kernels of the MCU ISA it was built for
// (Arm DSP extension, Arm MVE/Helium).
//
// Ownership and lifetimes (all caller-owned, none freed or copied by the interpreter):
//  - model:    the .tflite flatbuffer (e.g. the const array `personcls export --format c`
//              writes), read in place, 4-byte aligned; must outlive the interpreter.
//  - prepared: per-op parameters computed once by Init (requantization tables, kernel
//              choices, tensor pointers); must outlive the interpreter. May be nullptr:
//              the prepared data is then taken from the front of the arena.
//  - arena:    activations and kernel scratch, reused across ops by a planner; must
//              outlive the interpreter. Its contents between Invoke() calls are the
//              input/output tensors.
// Init() uses the heap never and Invoke() allocates nothing. Not thread-safe; one
// Invoke() at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "personcls/types.h"

namespace personcls {

class Runtime;

enum class MicroKernels : uint8_t {
  kFast,       // the MCU ISA's kernels where this build has them, reference otherwise
  kReference,  // plain-loop reference kernels only (the specification)
};

// A graph input or output: where it lives in the arena and how to read it.
struct MicroTensor {
  void* data = nullptr;
  size_t bytes = 0;
  DType dtype = DType::kInt8;
  int rank = 0;
  int32_t dims[6] = {};
  float scale = 0.0f;      // per-tensor quantization; 0 when not quantized
  int32_t zero_point = 0;
};

// Optional per-op hook (as TFLite Micro's MicroProfiler): Invoke(profiler) calls BeginOp(k)
// and EndOp(k) around op k, e.g. to read a cycle counter.
class MicroProfiler {
 public:
  virtual void BeginOp(int op) = 0;
  virtual void EndOp(int op) = 0;

 protected:
  ~MicroProfiler() = default;
};

class MicroInterpreter {
 public:
  MicroInterpreter() = default;
  MicroInterpreter(const MicroInterpreter&) = delete;
  MicroInterpreter& operator=(const MicroInterpreter&) = delete;

  // Reads and prepares the model and plans the arena. False when the model cannot run or a
  // buffer is too small; error() then says why and, for memory, how much is needed.
  bool Init(const void* model, size_t model_bytes, void* arena, size_t arena_bytes, void* prepared, size_t prepared_bytes,
            MicroKernels kernels = MicroKernels::kFast);
  const char* error() const { return error_; }

  // Runs the model on the current input tensors. Requires a successful Init().
  void Invoke(MicroProfiler* profiler = nullptr);

  int num_inputs() const;
  int num_outputs() const;
  MicroTensor input(int i) const;
  MicroTensor output(int i) const;

  // Memory actually used, in bytes: activations and scratch (from the arena), prepared data.
  size_t arena_used() const { return arena_used_; }
  size_t prepared_used() const { return prepared_used_; }

  // Per-op introspection: op type, the kernel chosen at Init, multiply-accumulates per run.
  int num_ops() const;
  OpType op_type(int k) const;
  const char* kernel_name(int k) const;
  int64_t op_macs(int k) const;

 private:
  Runtime* runtime_ = nullptr;  // lives in the prepared memory
  size_t arena_used_ = 0;
  size_t prepared_used_ = 0;
  char error_[240] = {};
};

}  // namespace personcls
