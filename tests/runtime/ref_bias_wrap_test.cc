// A bias near the int32 limit: the reference kernels add it as TFLite does, in two's
// complement int32 (quant::AddWrapping), so the sum wraps instead of being signed-overflow
// UB (which UBSan, in scripts/sanitize.sh, turns into a failure of these tests; fuzz_tflite_model
// found it: fuzz/seeds/fuzz_tflite_model/fully_connected_bias_overflow).
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>

#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

S8Requant HalfRequant(const int32_t* multiplier, const int32_t* shift) {
  S8Requant q;
  q.multiplier = multiplier;  // 0.5
  q.shift = shift;
  q.per_tensor = true;
  return q;
}

TEST(RefBiasWrap, FullyConnectedWrapsLikeInt32) {
  const int32_t multiplier = 1 << 30, shift = 0;
  const S8Requant q = HalfRequant(&multiplier, &shift);
  const int8_t input[3] = {1, 1, 1}, weights[3] = {1, 1, 1};
  const int32_t bias[1] = {INT32_MAX - 1};  // 3 + INT32_MAX - 1 wraps to INT32_MIN + 1
  int8_t out = 0;
  ref::s8_fully_connected(1, 3, 1, q, input, weights, bias, &out);
  EXPECT_EQ(out, -128);  // about INT32_MIN / 2, clamped; a saturating sum would give 127
}

TEST(RefBiasWrap, ConvolutionsWrapLikeInt32) {
  const int32_t multiplier = 1 << 30, shift = 0;
  const S8Requant q = HalfRequant(&multiplier, &shift);
  ConvGeometry g;
  g.in_h = g.in_w = g.out_h = g.out_w = 1;
  g.in_c = 3;
  g.out_c = 1;
  const int8_t input[3] = {1, 1, 1}, filter[3] = {1, 1, 1};
  const int32_t bias[1] = {INT32_MAX - 1};
  int8_t out = 0;
  ref::s8_conv2d(g, q, input, filter, bias, &out);
  EXPECT_EQ(out, -128);
  g.in_c = g.out_c = 1;
  const int32_t bias_dw[1] = {INT32_MAX};  // 1 + INT32_MAX wraps to INT32_MIN
  ref::s8_dwconv2d(g, q, input, filter, bias_dw, &out);
  EXPECT_EQ(out, -128);
}

}  // namespace
}  // namespace personcls
