#include <algorithm>

#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {
namespace {

// Calls fn(input_index, output_index) for every input element; output index collapses
// the reduced axes.
template <typename Fn>
void ForEachReduced(const MeanGeometry& g, Fn fn) {
  int out_shape[4];
  for (int d = 0; d < 4; ++d) out_shape[d] = g.reduce[d] ? 1 : g.shape[d];
  int64_t i = 0;
  for (int a = 0; a < g.shape[0]; ++a)
    for (int b = 0; b < g.shape[1]; ++b)
      for (int c = 0; c < g.shape[2]; ++c)
        for (int d = 0; d < g.shape[3]; ++d, ++i) {
          const int oa = g.reduce[0] ? 0 : a, ob = g.reduce[1] ? 0 : b, oc = g.reduce[2] ? 0 : c, od = g.reduce[3] ? 0 : d;
          fn(i, ((static_cast<int64_t>(oa) * out_shape[1] + ob) * out_shape[2] + oc) * out_shape[3] + od);
        }
}

int64_t OutputSize(const MeanGeometry& g) {
  int64_t n = 1;
  for (int d = 0; d < 4; ++d) n *= g.reduce[d] ? 1 : g.shape[d];
  return n;
}

int64_t ReducedCount(const MeanGeometry& g) {
  int64_t n = 1;
  for (int d = 0; d < 4; ++d) n *= g.reduce[d] ? g.shape[d] : 1;
  return n;
}

}  // namespace

void s8_mean(const MeanGeometry& g, const S8MeanParams& p, const int8_t* input, int32_t* sums, int8_t* output) {
  const int64_t outputs = OutputSize(g);
  const int64_t count = ReducedCount(g);
  std::fill(sums, sums + outputs, 0);
  ForEachReduced(g, [&](int64_t i, int64_t o) { sums[o] += input[i]; });
  // Fold 1/count into the multiplier: multiplier * 2^shift_extra / count, shift -= shift_extra,
  // where shift_extra = floor(log2(count)) keeps the significand in range.
  int extra = 63 - __builtin_clzll(static_cast<uint64_t>(count));
  extra = std::min(extra, 32);
  extra = std::min(extra, 31 + p.shift);
  const int32_t multiplier = static_cast<int32_t>((static_cast<int64_t>(p.multiplier) << extra) / count);
  const int shift = p.shift - extra;
  for (int64_t o = 0; o < outputs; ++o) {
    const int32_t centered = static_cast<int32_t>(sums[o] - static_cast<int64_t>(p.input_zp) * count);
    const int32_t v = quant::MultiplyByQuantizedMultiplier(centered, multiplier, shift) + p.output_zp;
    output[o] = quant::ClampToInt8(v, -128, 127);
  }
}

void f32_mean(const MeanGeometry& g, const float* input, float* output) {
  const int64_t outputs = OutputSize(g);
  std::fill(output, output + outputs, 0.0f);
  ForEachReduced(g, [&](int64_t i, int64_t o) { output[o] += input[i]; });
  const float count = static_cast<float>(ReducedCount(g));
  for (int64_t o = 0; o < outputs; ++o) output[o] /= count;
}

}  // namespace personcls::ref
