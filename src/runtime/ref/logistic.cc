#include <cmath>

#include "runtime/fixed_point.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {

void s8_logistic(int64_t size, const S8LogisticParams& p, const int8_t* input, int8_t* output) {
  // Input rescaled to Q4.27; logistic in Q0.31; output scale 1/256, zero point -128.
  constexpr int kInputIntegerBits = 4;
  constexpr int kOutputIntegerBits = 8;
  for (int64_t i = 0; i < size; ++i) {
    const int32_t x = static_cast<int32_t>(input[i]) - p.input_zero_point;
    if (x <= -p.input_range_radius) {
      output[i] = -128;
    } else if (x >= p.input_range_radius) {
      output[i] = 127;
    } else {
      const int32_t x_q4 = quant::MultiplyByQuantizedMultiplier(x, p.input_multiplier, p.input_left_shift);
      const int32_t y_q0 = fixed_point::Logistic(x_q4, kInputIntegerBits);
      const int32_t y = quant::RoundingDivideByPOT(y_q0, 31 - kOutputIntegerBits);
      output[i] = quant::ClampToInt8(y - 128, -128, 127);
    }
  }
}

void f32_logistic(int64_t size, const float* input, float* output) {
  // TFLite's cutoffs: beyond them 1/(1+exp(-x)) rounds to 1, and below -9 exp(x) is
  // the more accurate float answer.
  constexpr float kCutoffUpper = 16.619047164916992188f;
  constexpr float kCutoffLower = -9.0f;
  for (int64_t i = 0; i < size; ++i) {
    const float x = input[i];
    if (x > kCutoffUpper) output[i] = 1.0f;
    else if (x < kCutoffLower) output[i] = std::exp(x);
    else output[i] = 1.0f / (1.0f + std::exp(-x));
  }
}

}  // namespace personcls::ref
