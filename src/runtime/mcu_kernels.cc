// Build-time selection of the MCU kernel family (see mcu_kernels.h). The per-ISA folders
// are compiled only by the bare-metal build of that ISA (mcu/CMakeLists.txt).
#include "runtime/mcu_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && defined(PERSONCLS_MCU_KERNELS)
#include "runtime/arm_mve/mve_kernels.h"
#define PCLS_MCU_NS arm_mve
#define PCLS_MCU_FAMILY "arm_mve"
#elif defined(__ARM_FEATURE_DSP) && defined(PERSONCLS_MCU_KERNELS)
#include "runtime/arm_dsp/dsp_kernels.h"
#define PCLS_MCU_NS arm_dsp
#define PCLS_MCU_FAMILY "arm_dsp"
#endif

namespace personcls {

#if defined(PCLS_MCU_NS)

bool SelectMcuS8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, PreparedAllocator& a,
                       McuS8Conv* out) {
  return PCLS_MCU_NS::SelectS8Conv2d(g, q, filter, bias, a, out);
}
bool SelectMcuS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, PreparedAllocator& a,
                         McuS8Conv* out) {
  return PCLS_MCU_NS::SelectS8DwConv2d(g, q, filter, bias, a, out);
}
bool SelectMcuS8FullyConnected(int batch, int depth, int units, const S8Requant& q, const int8_t* weights, const int32_t* bias,
                               PreparedAllocator& a, McuS8FullyConnected* out) {
  return PCLS_MCU_NS::SelectS8FullyConnected(batch, depth, units, q, weights, bias, a, out);
}
bool SelectMcuS8AvgPool2d(const ConvGeometry& g, McuS8Pool* out) { return PCLS_MCU_NS::SelectS8AvgPool2d(g, out); }
bool SelectMcuS8MaxPool2d(const ConvGeometry& g, McuS8Pool* out) { return PCLS_MCU_NS::SelectS8MaxPool2d(g, out); }
const char* McuKernelFamily() { return PCLS_MCU_FAMILY; }

#else

bool SelectMcuS8Conv2d(const ConvGeometry&, const S8Requant&, const int8_t*, const int32_t*, PreparedAllocator&, McuS8Conv*) {
  return false;
}
bool SelectMcuS8DwConv2d(const ConvGeometry&, const S8Requant&, const int8_t*, const int32_t*, PreparedAllocator&, McuS8Conv*) {
  return false;
}
bool SelectMcuS8FullyConnected(int, int, int, const S8Requant&, const int8_t*, const int32_t*, PreparedAllocator&,
                               McuS8FullyConnected*) {
  return false;
}
bool SelectMcuS8AvgPool2d(const ConvGeometry&, McuS8Pool*) { return false; }
bool SelectMcuS8MaxPool2d(const ConvGeometry&, McuS8Pool*) { return false; }
const char* McuKernelFamily() { return ""; }

#endif

}  // namespace personcls
