// Fast (SIMD, multi-threaded) host implementations of the heavy ops, chosen at prepare
// time. These are the PC's kernels (src/runtime/x86/, heap-allocated, packed weights); the
// portable core reaches them only through a FastKernelFactory the PC Interpreter passes
// in. Microcontroller kernels are compiled in per ISA instead (runtime/mcu_kernels.h).
//
// A Make* function returns nullptr when no fast kernel fits (CPU without AVX2/FMA, a
// geometry the fast kernels do not cover); the op then runs its reference kernel. A
// FastKernel copies or packs everything it needs from the arguments (weights, bias,
// requantization tables), so the arguments need not outlive the call. Results: int8
// bit-identical to the reference kernels, float32 within 1e-5 relative.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/kernel_params.h"

namespace personcls {

class FastKernel {
 public:
  virtual ~FastKernel() = default;
  // input/output: NHWC activations as given to the op; scratch: scratch_bytes() of memory.
  // Uses at most min(num_threads, the factory's max_threads) threads of the shared pool
  // (runtime/host/thread_pool.h); the result does not depend on the thread count.
  virtual void Run(const void* input, void* output, void* scratch, int num_threads) const = 0;
  virtual size_t scratch_bytes() const { return 0; }
  virtual size_t persistent_bytes() const = 0;
  virtual std::string name() const = 0;
};

// Supplies host fast kernels to the runtime core at prepare time. Each call returns a
// kernel the factory owns (alive as long as the factory) plus its name, or {nullptr, ""}
// when no fast kernel fits; the op then runs its reference kernel.
struct FastKernelChoice {
  FastKernel* kernel = nullptr;
  const char* name = "";  // owned by the factory
};
class FastKernelFactory {
 public:
  virtual FastKernelChoice S8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias) = 0;
  virtual FastKernelChoice F32Conv2d(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias) = 0;
  virtual FastKernelChoice S8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias) = 0;
  virtual FastKernelChoice F32DwConv2d(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias) = 0;
  virtual FastKernelChoice S8AvgPool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max) = 0;
  virtual FastKernelChoice F32AvgPool2d(const ConvGeometry& g, F32Clamp clamp) = 0;

 protected:
  ~FastKernelFactory() = default;
};

// True when the CPU (and OS) support AVX2 and FMA.
bool CpuHasAvx2Fma();

// max_threads: the most threads Run() will use; kernels with per-thread scratch (the dense
// convolutions) size scratch_bytes() by it.
std::unique_ptr<FastKernel> MakeFastS8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias,
                                             int max_threads = 1);
std::unique_ptr<FastKernel> MakeFastF32Conv2d(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias,
                                              int max_threads = 1);
std::unique_ptr<FastKernel> MakeFastS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias,
                                               int max_threads = 1);
std::unique_ptr<FastKernel> MakeFastF32DwConv2d(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias,
                                                int max_threads = 1);
// AVERAGE_POOL_2D (in_c == out_c): single-threaded, no scratch, bit-exact in both types.
std::unique_ptr<FastKernel> MakeFastS8AvgPool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max);
std::unique_ptr<FastKernel> MakeFastF32AvgPool2d(const ConvGeometry& g, F32Clamp clamp);

}  // namespace personcls
