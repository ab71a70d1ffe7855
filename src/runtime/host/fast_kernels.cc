#include "runtime/fast_kernels.h"

#include "runtime/x86/x86_kernels.h"

namespace personcls {

bool CpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

// Every factory below checks the CPU first: the x86 factories live in translation units
// compiled with -mavx2 -mfma and must not run on other CPUs. Each x86 factory itself
// returns nullptr for geometries or parameters it does not cover; the op then runs its
// reference kernel.

std::unique_ptr<FastKernel> MakeFastS8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int max_threads) {
  if (!CpuHasAvx2Fma()) return nullptr;
  // 2.25x fewer multiplies than the direct kernel for 3x3 stride 1, still bit-exact.
  if (x86::WinogradS8Fits(g, q)) return x86::MakeS8Conv2d3x3s1WinogradAvx2(g, q, filter, bias, max_threads);
  return x86::MakeS8Conv2dAvx2(g, q, filter, bias, max_threads);
}

std::unique_ptr<FastKernel> MakeFastF32Conv2d(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias, int max_threads) {
  if (!CpuHasAvx2Fma()) return nullptr;
  // 2.25x fewer multiplies than the direct kernel for 3x3 stride 1 (the MobileNetV2-Rep blocks).
  if (x86::WinogradF32Fits(g)) return x86::MakeF32Conv2d3x3s1WinogradAvx2(g, clamp, filter, bias, max_threads);
  return x86::MakeF32Conv2dAvx2(g, clamp, filter, bias, max_threads);
}

std::unique_ptr<FastKernel> MakeFastS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int max_threads) {
  if (!CpuHasAvx2Fma()) return nullptr;
  return x86::MakeS8DwConv2dAvx2(g, q, filter, bias, max_threads);
}

std::unique_ptr<FastKernel> MakeFastF32DwConv2d(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias, int max_threads) {
  if (!CpuHasAvx2Fma()) return nullptr;
  return x86::MakeF32DwConv2dAvx2(g, clamp, filter, bias, max_threads);
}

std::unique_ptr<FastKernel> MakeFastS8AvgPool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max) {
  if (!CpuHasAvx2Fma()) return nullptr;
  return x86::MakeS8AvgPool2dAvx2(g, act_min, act_max);
}

std::unique_ptr<FastKernel> MakeFastF32AvgPool2d(const ConvGeometry& g, F32Clamp clamp) {
  if (!CpuHasAvx2Fma()) return nullptr;
  return x86::MakeF32AvgPool2dAvx2(g, clamp);
}

}  // namespace personcls
