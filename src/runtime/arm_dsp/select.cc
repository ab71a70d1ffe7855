// The ops arm_dsp has no kernel for yet (the reference kernels run).
#include "runtime/arm_dsp/dsp_kernels.h"

namespace personcls::arm_dsp {

bool SelectS8DwConv2d(const ConvGeometry&, const S8Requant&, const int8_t*, const int32_t*, PreparedAllocator&, McuS8Conv*) { return false; }
bool SelectS8FullyConnected(int, int, int, const S8Requant&, const int8_t*, const int32_t*, PreparedAllocator&, McuS8FullyConnected*) {
  return false;
}

}  // namespace personcls::arm_dsp
