// s8_fully_connected_mve: int8 FULLY_CONNECTED with symmetric weights (weight zero point
// 0) for MVE (Helium), bit-exact with ref::s8_fully_connected. The input offset is folded
// in: sum_d w*(x + offset) = sum_d w*x + offset * sum_d w, both sums by VMLADAVA/VADDVA
// over 16 inputs at a time (the last vector predicated, so nothing past a row is read).
#include "runtime/arm_mve/mve_kernels.h"
#include "runtime/arm_mve/mve_requant.h"

namespace personcls::arm_mve {
namespace {

void S8FullyConnected(int batch, int depth, int units, const S8Requant& q, const int8_t* input, const int8_t* weights,
                      const int32_t* bias, int8_t* output, const void*) {
  const RequantVectors r = SplatRequant(q.multiplier[0], q.shift[0]);
  for (int b = 0; b < batch; ++b, input += depth, output += units) {
    for (int u = 0; u < units; u += 4) {
      int32_t acc[4] = {0, 0, 0, 0};
      for (int j = 0; j < 4 && u + j < units; ++j) {
        const int8_t* w = weights + (u + j) * depth;
        int32_t dot = 0, sum = 0;
        for (int d = 0; d < depth; d += 16) {
          const mve_pred16_t p = vctp8q(depth - d);
          const int8x16_t wv = vldrbq_z_s8(w + d, p);
          dot = vmladavaq_s8(dot, vldrbq_z_s8(input + d, p), wv);
          sum = vaddvaq_s8(sum, wv);
        }
        const uint32_t folded = static_cast<uint32_t>(dot) + static_cast<uint32_t>(q.input_offset) * static_cast<uint32_t>(sum);
        acc[j] = static_cast<int32_t>(folded + (bias ? static_cast<uint32_t>(bias[u + j]) : 0u));
      }
      StoreInt8(output + u, MultiplyByQuantizedMultiplier(vldrwq_s32(acc), r), q.output_offset, q.act_min, q.act_max, units - u);
    }
  }
}

}  // namespace

bool SelectS8FullyConnected(int, int, int, const S8Requant& q, const int8_t*, const int32_t*, PreparedAllocator&,
                            McuS8FullyConnected* out) {
  if (q.filter_offset != 0 || !q.per_tensor) return false;
  out->run = S8FullyConnected;
  out->extra = nullptr;
  out->name = "s8_fully_connected_mve";
  return true;
}

}  // namespace personcls::arm_mve
