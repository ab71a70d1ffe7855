#include <algorithm>

#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {
namespace {

template <typename Fn>
void ForEachBroadcast(const BroadcastGeometry& g, Fn fn) {
  int64_t o = 0;
  for (int i0 = 0; i0 < g.out_shape[0]; ++i0)
    for (int i1 = 0; i1 < g.out_shape[1]; ++i1)
      for (int i2 = 0; i2 < g.out_shape[2]; ++i2)
        for (int i3 = 0; i3 < g.out_shape[3]; ++i3, ++o) {
          const int64_t a = i0 * g.a_strides[0] + i1 * g.a_strides[1] + i2 * g.a_strides[2] + i3 * g.a_strides[3];
          const int64_t b = i0 * g.b_strides[0] + i1 * g.b_strides[1] + i2 * g.b_strides[2] + i3 * g.b_strides[3];
          fn(o, a, b);
        }
}

}  // namespace

void s8_add(const BroadcastGeometry& g, const S8AddParams& p, const int8_t* a, const int8_t* b, int8_t* output) {
  ForEachBroadcast(g, [&](int64_t o, int64_t ia, int64_t ib) {
    const int32_t x1 = quant::ShiftLeftWrapping(p.input1_offset + a[ia], p.left_shift);
    const int32_t x2 = quant::ShiftLeftWrapping(p.input2_offset + b[ib], p.left_shift);
    const int32_t s1 = quant::MultiplyByQuantizedMultiplierSmallerThanOneExp(x1, p.input1_multiplier, p.input1_shift);
    const int32_t s2 = quant::MultiplyByQuantizedMultiplierSmallerThanOneExp(x2, p.input2_multiplier, p.input2_shift);
    const int32_t sum = s1 + s2;
    const int32_t v = quant::MultiplyByQuantizedMultiplierSmallerThanOneExp(sum, p.output_multiplier, p.output_shift) + p.output_offset;
    output[o] = quant::ClampToInt8(v, p.act_min, p.act_max);
  });
}

void f32_add(const BroadcastGeometry& g, F32Clamp clamp, const float* a, const float* b, float* output) {
  ForEachBroadcast(g, [&](int64_t o, int64_t ia, int64_t ib) { output[o] = std::min(std::max(a[ia] + b[ib], clamp.min), clamp.max); });
}

}  // namespace personcls::ref
