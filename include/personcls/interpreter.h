// Interpreter: runs a Graph on the PC.
//
// Create() writes the Graph into a TFLite flatbuffer it owns and runs the portable runtime
// core on it (the same code as personcls/micro_interpreter.h on a microcontroller):
// validates the graph, prepares every op (all shape and quantization math, weight packing
// for the AVX2 kernels), plans tensor lifetimes into one arena and allocates it once.
// Invoke() then allocates nothing. The Interpreter shares ownership of its Graph; input and
// output pointers stay valid for the Interpreter's lifetime. Not thread-safe: one Invoke()
// at a time per Interpreter (create one per thread instead).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls {

enum class KernelSet {
  kFast,       // AVX2/FMA kernels where the CPU has them, reference kernels otherwise
  kReference,  // plain-loop reference kernels only (the specification)
};

struct InterpreterOptions {
  int num_threads = 1;
  KernelSet kernels = KernelSet::kFast;
  // Create() fails instead of allocating an arena larger than this.
  size_t max_arena_bytes = size_t{1} << 30;
};

struct OpInfo {
  OpType type;
  std::string kernel;  // the kernel chosen at prepare time, e.g. "s8_conv2d_ref"
  int64_t macs = 0;    // multiply-accumulates per invoke
};

class Interpreter {
 public:
  static Expected<std::unique_ptr<Interpreter>> Create(std::shared_ptr<const Graph> graph, InterpreterOptions options = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  const Graph& graph() const;
  int num_inputs() const;
  int num_outputs() const;
  const TensorDesc& input_desc(int i) const;
  const TensorDesc& output_desc(int i) const;
  // Arena memory of the i-th graph input/output; valid until the Interpreter is destroyed.
  void* input_data(int i);
  const void* output_data(int i) const;

  // Runs all ops. Never allocates; the only failure is a programmer error (asserted).
  void Invoke();
  // Invoke() that also adds the wall time of each op, in seconds, to op_seconds[k] (resized
  // to the number of ops if needed; `personcls bench --profile`). Not allocation-free on
  // the first call.
  void InvokeProfiled(std::vector<double>& op_seconds);

  // Threads for the next Invokes. Kernels with per-thread scratch (the convolutions) were
  // sized at Create() for options.num_threads and use at most that many.
  void set_num_threads(int n);
  // Bytes of the single activation arena (tensors and kernel scratch), as planned.
  size_t arena_bytes() const;
  // Bytes of prepared data that live as long as the Interpreter (per-op parameters,
  // requantization tables, tensor table, packed weights of the AVX2 kernels).
  size_t persistent_bytes() const;
  std::vector<OpInfo> op_infos() const;
  int64_t total_macs() const;

 private:
  struct Impl;
  explicit Interpreter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace personcls
