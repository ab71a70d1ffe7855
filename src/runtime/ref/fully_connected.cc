#include <algorithm>

#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {

void s8_fully_connected(int batch, int depth, int units, const S8Requant& q, const int8_t* input, const int8_t* weights,
                        const int32_t* bias, int8_t* output) {
  for (int b = 0; b < batch; ++b) {
    for (int u = 0; u < units; ++u) {
      int32_t acc = 0;
      for (int d = 0; d < depth; ++d) {
        acc += (static_cast<int32_t>(weights[static_cast<int64_t>(u) * depth + d]) + q.filter_offset) *
               (static_cast<int32_t>(input[static_cast<int64_t>(b) * depth + d]) + q.input_offset);
      }
      if (bias) acc = quant::AddWrapping(acc, bias[u]);
      const int ch = q.per_tensor ? 0 : u;
      int32_t v = quant::MultiplyByQuantizedMultiplier(acc, q.multiplier[ch], q.shift[ch]) + q.output_offset;
      output[static_cast<int64_t>(b) * units + u] = quant::ClampToInt8(v, q.act_min, q.act_max);
    }
  }
}

void f32_fully_connected(int batch, int depth, int units, F32Clamp clamp, const float* input, const float* weights,
                         const float* bias, float* output) {
  for (int b = 0; b < batch; ++b) {
    for (int u = 0; u < units; ++u) {
      float acc = 0.0f;
      for (int d = 0; d < depth; ++d) acc += input[static_cast<int64_t>(b) * depth + d] * weights[static_cast<int64_t>(u) * depth + d];
      if (bias) acc += bias[u];
      output[static_cast<int64_t>(b) * units + u] = std::min(std::max(acc, clamp.min), clamp.max);
    }
  }
}

}  // namespace personcls::ref
