#include "runtime/fast_kernels.h"

namespace personcls {

bool CpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

// Fast kernels are added in src/runtime/x86/; until one covers a geometry, the reference
// kernel runs.
std::unique_ptr<FastKernel> MakeFastS8Conv2d(const ConvGeometry&, const S8Requant&, const int8_t*, const int32_t*) { return nullptr; }
std::unique_ptr<FastKernel> MakeFastF32Conv2d(const ConvGeometry&, F32Clamp, const float*, const float*) { return nullptr; }
std::unique_ptr<FastKernel> MakeFastS8DwConv2d(const ConvGeometry&, const S8Requant&, const int8_t*, const int32_t*) { return nullptr; }
std::unique_ptr<FastKernel> MakeFastF32DwConv2d(const ConvGeometry&, F32Clamp, const float*, const float*) { return nullptr; }

}  // namespace personcls
