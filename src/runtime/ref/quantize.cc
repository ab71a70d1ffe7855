#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {

void f32_to_s8_quantize(int64_t size, float scale, int32_t zero_point, const float* input, int8_t* output) {
  for (int64_t i = 0; i < size; ++i) {
    // round(x / scale) in float, ties away from zero, then offset and clamp.
    const float r = std::round(input[i] / scale);
    int32_t q;
    if (!(r > -2147483648.0f)) q = std::numeric_limits<int32_t>::min();  // also NaN
    else if (r >= 2147483648.0f) q = std::numeric_limits<int32_t>::max();
    else q = static_cast<int32_t>(r);
    const int64_t v = static_cast<int64_t>(q) + zero_point;
    output[i] = static_cast<int8_t>(std::min<int64_t>(std::max<int64_t>(v, -128), 127));
  }
}

void s8_to_f32_dequantize(int64_t size, double scale, int32_t zero_point, const int8_t* input, float* output) {
  for (int64_t i = 0; i < size; ++i) output[i] = static_cast<float>(scale * (static_cast<int32_t>(input[i]) - zero_point));
}

void s8_requantize(int64_t size, int32_t input_zp, int32_t output_zp, int32_t multiplier, int shift, const int8_t* input,
                   int8_t* output) {
  for (int64_t i = 0; i < size; ++i) {
    const int32_t v = quant::MultiplyByQuantizedMultiplier(static_cast<int32_t>(input[i]) - input_zp, multiplier, shift) + output_zp;
    output[i] = quant::ClampToInt8(v, -128, 127);
  }
}

}  // namespace personcls::ref
