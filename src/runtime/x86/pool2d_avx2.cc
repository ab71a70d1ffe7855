// s8_avgpool2d_avx2 / f32_avgpool2d_avx2: AVERAGE_POOL_2D for AVX2, any window, stride
// and padding; bit-exact with ref::s8_avgpool2d / ref::f32_avgpool2d.
//
// Per output pixel the window's in-bounds taps are summed 8 channels at a time, in the
// reference's (y, x) order, so each lane does exactly the reference's arithmetic:
//  - float32: acc += x in (y, x) order from 0, then acc / taps, clamp. Bit-identical.
//  - int8: int32 sums, then TFLite's rounding division (acc > 0 ? acc + taps/2 :
//    acc - taps/2) / taps, truncating, done in float32: with taps < 2^16 the numerator
//    n is an integer below 128.5 * 2^16 < 2^24 in magnitude, so it and taps are exact
//    floats, and the correctly rounded quotient q = n / taps is off by at most
//    |q| * 2^-24 <= 128.5 * 2^-24 < 2^-16. A non-integer n / taps lies at least
//    1 / taps > 2^-16 from every integer, so truncating the float quotient truncates the
//    exact one. Windows of 2^16 taps or more use the reference.
// Channels past the last full block of 8 go through the same scalar code as the
// reference. A pool is tiny next to the convolutions around it (MLPerf VWW's is 3x3x256
// -> 1x1x256), so the kernel runs on the calling thread.
#include <immintrin.h>

#include <algorithm>
#include <string>

#include "runtime/x86/conv_layout.h"
#include "runtime/x86/x86_kernels.h"

namespace personcls::x86 {
namespace {

constexpr int kLanes = 8;

// Calls fn(image, w, out) for every output pixel with a non-empty window: image is the
// pixel's input image [H][W][C], w its in-bounds window, out its C outputs.
template <typename T, typename Fn>
void ForEachPoolWindow(const ConvGeometry& g, const T* input, T* output, Fn&& fn) {
  for (int n = 0; n < g.batch; ++n) {
    const T* image = input + int64_t{n} * g.in_h * g.in_w * g.in_c;
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox, output += g.in_c) {
        const PoolWindow w = PoolWindowAt(g, oy, ox);
        if (w.taps() > 0) fn(image, w, output);  // prepare refuses empty windows, as the reference
      }
  }
}

class S8AvgPool2dAvx2 final : public FastKernel {
 public:
  S8AvgPool2dAvx2(const ConvGeometry& g, int32_t act_min, int32_t act_max) : g_(g), act_min_(act_min), act_max_(act_max) {}
  void Run(const void* input, void* output, void* scratch, int num_threads) const override;
  size_t persistent_bytes() const override { return 0; }
  std::string name() const override { return "s8_avgpool2d_avx2"; }

 private:
  ConvGeometry g_;
  int32_t act_min_, act_max_;
};

void S8AvgPool2dAvx2::Run(const void* input, void* output, void*, int) const {
  const int channels = g_.in_c;
  const int full = channels / kLanes * kLanes;
  const __m256i lo = _mm256_set1_epi32(act_min_), hi = _mm256_set1_epi32(act_max_);
  ForEachPoolWindow(g_, static_cast<const int8_t*>(input), static_cast<int8_t*>(output),
                    [&](const int8_t* image, const PoolWindow& w, int8_t* out) {
    const int32_t taps = w.taps();
    const int32_t half = taps / 2;
    const __m256 taps_f = _mm256_set1_ps(static_cast<float>(taps));
    const __m256i half_v = _mm256_set1_epi32(half);
    for (int c = 0; c < full; c += kLanes) {
      __m256i sum = _mm256_setzero_si256();
      for (int y = w.yb; y < w.ye; ++y) {
        const int8_t* p = image + (int64_t{y} * g_.in_w + w.xb) * channels + c;
        for (int x = w.xb; x < w.xe; ++x, p += channels)
          sum = _mm256_add_epi32(sum, _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
      }
      // acc > 0 ? acc + half : acc - half, then the truncating division (see above).
      const __m256i positive = _mm256_cmpgt_epi32(sum, _mm256_setzero_si256());
      const __m256i numerator = _mm256_blendv_epi8(_mm256_sub_epi32(sum, half_v), _mm256_add_epi32(sum, half_v), positive);
      const __m256i q = _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(numerator), taps_f));
      const __m256i r = _mm256_min_epi32(_mm256_max_epi32(q, lo), hi);
      const __m128i r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + c), _mm_packs_epi16(r16, r16));
    }
    for (int c = full; c < channels; ++c) {
      int32_t acc = 0;
      for (int y = w.yb; y < w.ye; ++y)
        for (int x = w.xb; x < w.xe; ++x) acc += image[(int64_t{y} * g_.in_w + x) * channels + c];
      acc = acc > 0 ? (acc + half) / taps : (acc - half) / taps;
      out[c] = static_cast<int8_t>(std::min(std::max(acc, act_min_), act_max_));
    }
  });
}

class F32AvgPool2dAvx2 final : public FastKernel {
 public:
  F32AvgPool2dAvx2(const ConvGeometry& g, F32Clamp clamp) : g_(g), clamp_(clamp) {}
  void Run(const void* input, void* output, void* scratch, int num_threads) const override;
  size_t persistent_bytes() const override { return 0; }
  std::string name() const override { return "f32_avgpool2d_avx2"; }

 private:
  ConvGeometry g_;
  F32Clamp clamp_;
};

void F32AvgPool2dAvx2::Run(const void* input, void* output, void*, int) const {
  const int channels = g_.in_c;
  const int full = channels / kLanes * kLanes;
  const __m256 lo = _mm256_set1_ps(clamp_.min), hi = _mm256_set1_ps(clamp_.max);
  ForEachPoolWindow(g_, static_cast<const float*>(input), static_cast<float*>(output),
                    [&](const float* image, const PoolWindow& w, float* out) {
    const float taps = static_cast<float>(w.taps());
    const __m256 taps_v = _mm256_set1_ps(taps);
    for (int c = 0; c < full; c += kLanes) {
      __m256 acc = _mm256_setzero_ps();
      for (int y = w.yb; y < w.ye; ++y) {
        const float* p = image + (int64_t{y} * g_.in_w + w.xb) * channels + c;
        for (int x = w.xb; x < w.xe; ++x, p += channels) acc = _mm256_add_ps(acc, _mm256_loadu_ps(p));
      }
      // std::min(std::max(acc / taps, lo), hi), NaN behaviour included: max_ps/min_ps
      // return their second operand when unordered.
      _mm256_storeu_ps(out + c, _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_div_ps(acc, taps_v))));
    }
    for (int c = full; c < channels; ++c) {
      float acc = 0.0f;
      for (int y = w.yb; y < w.ye; ++y)
        for (int x = w.xb; x < w.xe; ++x) acc += image[(int64_t{y} * g_.in_w + x) * channels + c];
      out[c] = std::min(std::max(acc / taps, clamp_.min), clamp_.max);
    }
  });
}

}  // namespace

std::unique_ptr<FastKernel> MakeS8AvgPool2dAvx2(const ConvGeometry& g, int32_t act_min, int32_t act_max) {
  if (!GeometryFits(g) || int64_t{g.k_h} * g.k_w >= (int64_t{1} << 16)) return nullptr;
  if (act_min < -128 || act_max > 127 || act_min > act_max) return nullptr;
  return std::make_unique<S8AvgPool2dAvx2>(g, act_min, act_max);
}

std::unique_ptr<FastKernel> MakeF32AvgPool2dAvx2(const ConvGeometry& g, F32Clamp clamp) {
  if (!GeometryFits(g)) return nullptr;
  return std::make_unique<F32AvgPool2dAvx2>(g, clamp);
}

}  // namespace personcls::x86
