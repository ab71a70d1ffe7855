// s8_fully_connected_dsp: int8 FULLY_CONNECTED with symmetric weights (weight zero point
// 0, as TFLite's int8 converter writes them) for the Arm DSP extension, bit-exact with
// ref::s8_fully_connected. Two units at a time share the input words: per 4 inputs, one
// LDR and two SXTAB16 (offset added) for the input, one LDR and two SXTB16 per unit, and
// 4 SMLAD: 13 instructions per 8 MACs.
#include "runtime/arm_dsp/dsp_intrinsics.h"
#include "runtime/arm_dsp/dsp_kernels.h"
#include "runtime/arm_dsp/dsp_requant.h"

namespace personcls::arm_dsp {
namespace {

void S8FullyConnected(int batch, int depth, int units, const S8Requant& q, const int8_t* input, const int8_t* weights,
                      const int32_t* bias, int8_t* output, const void*) {
  const int32_t offset_pair = PairOf(q.input_offset);
  const int groups = depth / 4;
  for (int b = 0; b < batch; ++b, input += depth, output += units) {
    for (int u = 0; u < units; u += 2) {
      const int u1 = u + 1 < units ? u + 1 : u;  // an odd last unit is paired with itself
      const int8_t* w0 = weights + u * depth;
      const int8_t* w1 = weights + u1 * depth;
      int32_t a0 = bias ? bias[u] : 0, a1 = bias ? bias[u1] : 0;
      const int8_t* x = input;
      for (int i = 0; i < groups; ++i, x += 4, w0 += 4, w1 += 4) {
        const uint32_t xv = Load32(x);
        const int32_t xa = Sxtab16(offset_pair, xv), xb = Sxtab16Ror8(offset_pair, xv);
        const uint32_t v0 = Load32(w0), v1 = Load32(w1);
        a0 = Smlad(Sxtb16(v0), xa, Smlad(Sxtb16Ror8(v0), xb, a0));
        a1 = Smlad(Sxtb16(v1), xa, Smlad(Sxtb16Ror8(v1), xb, a1));
      }
      for (int d = 4 * groups; d < depth; ++d, ++x, ++w0, ++w1) {
        a0 += *w0 * (*x + q.input_offset);
        a1 += *w1 * (*x + q.input_offset);
      }
      output[u] = static_cast<int8_t>(
          MakeOutputStage(q.output_offset, q.act_min, q.act_max)(MultiplyByQuantizedMultiplier(a0, q.multiplier[0], q.shift[0])));
      output[u1] = static_cast<int8_t>(
          MakeOutputStage(q.output_offset, q.act_min, q.act_max)(MultiplyByQuantizedMultiplier(a1, q.multiplier[0], q.shift[0])));
    }
  }
}

}  // namespace

bool SelectS8FullyConnected(int, int, int, const S8Requant& q, const int8_t*, const int32_t*, PreparedAllocator&,
                            McuS8FullyConnected* out) {
  if (q.filter_offset != 0 || !q.per_tensor || q.input_offset < -128 || q.input_offset > 128) return false;
  out->run = S8FullyConnected;
  out->extra = nullptr;
  out->name = "s8_fully_connected_dsp";
  return true;
}

}  // namespace personcls::arm_dsp
