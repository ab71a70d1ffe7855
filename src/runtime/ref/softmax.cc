#include <algorithm>
#include <cmath>

#include "runtime/fixed_point.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {

void s8_softmax(int rows, int depth, const S8SoftmaxParams& p, const int8_t* input, int8_t* output) {
  // exp() of rescaled differences to the row maximum in Q5.26, summed in Q12.19.
  constexpr int kScaledDiffIntegerBits = 5;
  constexpr int kAccumulationIntegerBits = 12;
  for (int r = 0; r < rows; ++r) {
    const int8_t* in = input + static_cast<int64_t>(r) * depth;
    int8_t* out = output + static_cast<int64_t>(r) * depth;
    int32_t max_in_row = -128;
    for (int c = 0; c < depth; ++c) max_in_row = std::max<int32_t>(max_in_row, in[c]);

    int32_t sum_of_exps = 0;
    for (int c = 0; c < depth; ++c) {
      const int32_t diff = static_cast<int32_t>(in[c]) - max_in_row;
      if (diff < p.diff_min) continue;
      const int32_t scaled = quant::MultiplyByQuantizedMultiplierGreaterThanOne(diff, p.input_multiplier, p.input_left_shift);
      const int32_t e = fixed_point::ExpOnNegativeValues(scaled, kScaledDiffIntegerBits);
      sum_of_exps = fixed_point::Add(sum_of_exps, fixed_point::Rescale(e, 0, kAccumulationIntegerBits));
    }

    int num_bits_over_unit = 0;
    const int32_t reciprocal = fixed_point::GetReciprocal(sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
    for (int c = 0; c < depth; ++c) {
      const int32_t diff = static_cast<int32_t>(in[c]) - max_in_row;
      if (diff < p.diff_min) {
        out[c] = -128;
        continue;
      }
      const int32_t scaled = quant::MultiplyByQuantizedMultiplierGreaterThanOne(diff, p.input_multiplier, p.input_left_shift);
      const int32_t e = fixed_point::ExpOnNegativeValues(scaled, kScaledDiffIntegerBits);
      // Output scale 1/256: prob * 256 = (reciprocal * e) >> (num_bits_over_unit + 31 - 8).
      const int32_t unsat = quant::RoundingDivideByPOT(fixed_point::Mul(reciprocal, e), num_bits_over_unit + 31 - 8);
      out[c] = quant::ClampToInt8(unsat - 128, -128, 127);
    }
  }
}

void f32_softmax(int rows, int depth, float beta, const float* input, float* output) {
  for (int r = 0; r < rows; ++r) {
    const float* in = input + static_cast<int64_t>(r) * depth;
    float* out = output + static_cast<int64_t>(r) * depth;
    float max_in_row = in[0];
    for (int c = 1; c < depth; ++c) max_in_row = std::max(max_in_row, in[c]);
    float sum = 0.0f;
    for (int c = 0; c < depth; ++c) {
      out[c] = std::exp((in[c] - max_in_row) * beta);
      sum += out[c];
    }
    for (int c = 0; c < depth; ++c) out[c] /= sum;
  }
}

}  // namespace personcls::ref
