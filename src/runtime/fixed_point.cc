#include "runtime/fixed_point.h"

namespace personcls::fixed_point {

int32_t ExpOnIntervalNegQuarterTo0(int32_t a) {
  constexpr int32_t kExpMinusOneEighth = 1895147668;  // exp(-1/8) in Q0.31
  constexpr int32_t kOneThird = 715827883;            // 1/3 in Q0.31
  const int32_t x = Add(a, int32_t{1} << 28);          // x = a + 1/8
  const int32_t x2 = Mul(x, x);
  const int32_t x3 = Mul(x2, x);
  const int32_t x4 = Mul(x2, x2);
  const int32_t x4_over_4 = SaturatingRoundingMultiplyByPOT(x4, -2);
  const int32_t poly = SaturatingRoundingMultiplyByPOT(Add(Mul(Add(x4_over_4, x3), kOneThird), x2), -1);
  return Add(kExpMinusOneEighth, Mul(kExpMinusOneEighth, Add(x, poly)));
}

int32_t ExpOnNegativeValues(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = int32_t{1} << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_quarter = Sub(a & mask, one_quarter);
  int32_t result = ExpOnIntervalNegQuarterTo0(Rescale(a_mod_quarter_minus_quarter, integer_bits, 0));
  const int32_t remainder = Sub(a_mod_quarter_minus_quarter, a);

  // Multiply in exp(-2^k) for every bit k of the remaining (negated) integer part.
  struct Step {
    int exponent;
    int32_t multiplier;  // exp(-2^exponent) in Q0.31
  };
  constexpr Step kSteps[] = {{-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308},
                             {2, 39332535},    {3, 720401},      {4, 242}};
  for (const Step& step : kSteps) {
    if (integer_bits > step.exponent) {
      const int shift = fractional_bits + step.exponent;
      if (remainder & (int32_t{1} << shift)) result = Mul(result, step.multiplier);
    }
  }
  if (integer_bits > 5) {
    const int32_t clamp = -(int32_t{1} << (36 - integer_bits));  // -32.0
    if (a < clamp) result = 0;
  }
  if (a == 0) result = One(0);
  return result;
}

int32_t OneOverOnePlusX(int32_t a) {
  const int32_t half_denominator = RoundingHalfSum(a, One(0));  // 0 integer bits
  constexpr int32_t k48Over17 = 1515870810;                     // 2 integer bits
  constexpr int32_t kNeg32Over17 = -1010580540;                 // 2 integer bits
  int32_t x = Add(k48Over17, Mul(half_denominator, kNeg32Over17));  // 2 integer bits
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = Mul(half_denominator, x);               // 2 bits
    const int32_t one_minus = Sub(One(2), half_denominator_times_x);                 // 2 bits
    x = Add(x, Rescale(Mul(x, one_minus), 4, 2));
  }
  // x / 2: same raw read with one integer bit less, then back to 0 integer bits.
  return Rescale(x, 1, 0);
}

int32_t Logistic(int32_t a, int integer_bits) {
  if (a == 0) return int32_t{1} << 30;  // 0.5
  const bool positive = a > 0;
  const int32_t abs_a = positive ? a : Sub(0, a);
  const int32_t result_if_positive = OneOverOnePlusX(ExpOnNegativeValues(Sub(0, abs_a), integer_bits));
  return positive ? result_if_positive : Sub(One(0), result_if_positive);
}

int32_t GetReciprocal(int32_t x, int integer_bits, int* num_bits_over_unit) {
  const uint32_t ux = static_cast<uint32_t>(x);
  const int headroom_plus_one = ux == 0 ? 32 : __builtin_clz(ux);
  *num_bits_over_unit = integer_bits - headroom_plus_one;
  const int32_t shifted_sum_minus_one =
      static_cast<int32_t>((headroom_plus_one >= 32 ? 0u : (ux << headroom_plus_one)) - (uint32_t{1} << 31));
  return OneOverOnePlusX(shifted_sum_minus_one);
}

}  // namespace personcls::fixed_point
