// Which kernel runs which op on an MVE (Helium) core (prepare time). Armv8.1-M cores with
// MVE also have the DSP extension: ops without an MVE kernel get the arm_dsp one.
#include "runtime/arm_dsp/dsp_kernels.h"
#include "runtime/arm_mve/mve_kernels.h"

namespace personcls::arm_mve {

bool SelectS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, PreparedAllocator& a,
                      McuS8Conv* out) {
  return arm_dsp::SelectS8DwConv2d(g, q, filter, bias, a, out);
}

bool SelectS8FullyConnected(int batch, int depth, int units, const S8Requant& q, const int8_t* weights, const int32_t* bias,
                            PreparedAllocator& a, McuS8FullyConnected* out) {
  return arm_dsp::SelectS8FullyConnected(batch, depth, units, q, weights, bias, a, out);
}

}  // namespace personcls::arm_mve
