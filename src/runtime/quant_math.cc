#include "runtime/quant_math.h"

#include <algorithm>
#include <cmath>

namespace personcls::quant {

void QuantizeMultiplier(double real_multiplier, int32_t* multiplier, int* shift) {
  if (real_multiplier == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  const double q = std::frexp(real_multiplier, shift);  // real = q * 2^shift, q in [0.5, 1)
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  assert(q_fixed <= (int64_t{1} << 31));
  if (q_fixed == (int64_t{1} << 31)) {  // q rounded up to 1.0
    q_fixed /= 2;
    ++*shift;
  }
  if (*shift < -31) {
    *shift = 0;
    q_fixed = 0;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
}

bool QuantizeModelMultiplier(double real_multiplier, int32_t* multiplier, int* shift) {
  *multiplier = 0;
  *shift = 0;
  if (!std::isfinite(real_multiplier) || real_multiplier < 0 || real_multiplier >= static_cast<double>(1 << 30)) return false;
  QuantizeMultiplier(real_multiplier, multiplier, shift);
  return *shift <= 30;
}

int32_t QuantizeValue(float scale, int32_t zero_point, float f) {
  // TFLite rejects values whose quantization leaves int32; saturating gives the same clamp
  // bounds for every sane model and cannot overflow on crafted ones.
  const double scaled = std::round(static_cast<double>(f / scale));
  const double q = std::clamp(scaled + zero_point, -2147483648.0, 2147483647.0);
  return std::isnan(q) ? zero_point : static_cast<int32_t>(q);
}

void ActivationRangeInt8(Activation act, float scale, int32_t zero_point, int32_t* act_min, int32_t* act_max) {
  constexpr int32_t kMin = -128, kMax = 127;
  *act_min = kMin;
  *act_max = kMax;
  if (act == Activation::kRelu || act == Activation::kRelu6) {
    const int32_t q0 = QuantizeValue(scale, zero_point, 0.0f);
    *act_min = q0 > kMin ? q0 : kMin;
  }
  if (act == Activation::kRelu6) {
    const int32_t q6 = QuantizeValue(scale, zero_point, 6.0f);
    *act_max = q6 < kMax ? q6 : kMax;
  }
}

void ActivationRangeFloat(Activation act, float* act_min, float* act_max) {
  *act_min = std::numeric_limits<float>::lowest();
  *act_max = std::numeric_limits<float>::max();
  if (act == Activation::kRelu || act == Activation::kRelu6) *act_min = 0.0f;
  if (act == Activation::kRelu6) *act_max = 6.0f;
}

int CalculateInputRadius(int integer_bits, int left_shift, int total_signed_bits) {
  const double max_input_rescaled = 1.0 * ((1 << integer_bits) - 1) *
                                    static_cast<double>(int64_t{1} << (total_signed_bits - integer_bits)) /
                                    static_cast<double>(int64_t{1} << left_shift);
  return static_cast<int>(std::floor(max_input_rescaled));
}

}  // namespace personcls::quant
