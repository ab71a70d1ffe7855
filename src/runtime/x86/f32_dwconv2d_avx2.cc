// f32_dwconv2d_avx2 / f32_dwconv2d_3x3_avx2: float DEPTHWISE_CONV_2D for AVX2+FMA, any
// kernel size, stride, dilation, padding and depth multiplier; within 1e-5 relative of
// ref::f32_dwconv2d.
//
// Run splits the output into bands of whole rows (conv_layout.h, PlanBands) that the
// threads of the pool take one at a time. Per band:
//  1. Copy the rows of the zero-padded view (conv_layout.h) that the band's windows reach
//     into the thread's slot of scratch, expanded to the output channels:
//     [view_rows][Wp][Cp] float with element [.., ic * M + m] = input channel ic
//     (M = depth multiplier), Cp = Cout rounded up to 8. A padded tap adds
//     0 * w, leaving the sum as the reference's skipped tap does.
//  2. For each output row and block of 8 channels: acc = sum over taps (in (ky, kx)
//     order, as the reference) of FMA(x, w), then + bias, clamp, store.
#include <immintrin.h>

#include <cstring>
#include <string>

#include "runtime/host/thread_pool.h"
#include "runtime/x86/aligned_buffer.h"
#include "runtime/x86/conv_layout.h"
#include "runtime/x86/lanes_avx2.h"
#include "runtime/x86/x86_kernels.h"

namespace personcls::x86 {
namespace {

constexpr int kLanes = 8;  // channels per vector
// Multiply-accumulates below which another thread costs more than it saves.
constexpr int64_t kMinMacsPerThread = 48 * 1024;
constexpr int64_t kBandMacs = 32 * 1024;  // work of one band

class F32DwConv2dAvx2 final : public FastKernel {
 public:
  bool Init(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias, int max_threads);
  void Run(const void* input, void* output, void* scratch, int num_threads) const override;
  size_t scratch_bytes() const override { return sizeof(float) * slots_ * slot_elements_; }
  size_t persistent_bytes() const override { return weights_.bytes() + bias_.bytes() + tap_offsets_.bytes(); }
  std::string name() const override { return g_.k_h == 3 && g_.k_w == 3 ? "f32_dwconv2d_3x3_avx2" : "f32_dwconv2d_avx2"; }

 private:
  void FillRow(const float* input, int n, int y, float* dst) const;
  void RunBand(const float* input, float* output, float* slot, int task) const;
  template <int kTaps>
  void ComputeRow(const float* base, float* out_row) const;

  ConvGeometry g_;
  F32Clamp clamp_{0, 0};
  int cp_ = 0;  // channels per pixel in the padded view: Cout rounded up to kLanes
  int taps_ = 0;
  int wp_ = 0;
  BandPlan bands_;
  int slots_ = 1;              // per-thread slots of scratch (max_threads)
  int64_t slot_elements_ = 0;  // elements per slot: view_rows * Wp * Cp, in cache lines
  AlignedBuffer<float> weights_;        // [taps][cp]
  AlignedBuffer<float> bias_;           // [cp]
  AlignedBuffer<int32_t> tap_offsets_;  // [taps], floats from a window origin
};

bool F32DwConv2dAvx2::Init(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias, int max_threads) {
  g_ = g;
  clamp_ = clamp;
  cp_ = RoundUp(g.out_c, kLanes);
  taps_ = g.k_h * g.k_w;
  const PaddedExtent e = ComputePaddedExtent(g);
  wp_ = e.w;
  bands_ = PlanBands(g, kBandMacs);
  slots_ = max_threads < 1 ? 1 : (max_threads > host::kMaxThreads ? host::kMaxThreads : max_threads);
  slot_elements_ = static_cast<int64_t>(CacheLines(sizeof(float) * int64_t{bands_.view_rows} * wp_ * cp_) / sizeof(float));
  weights_.Reset(size_t{1} * taps_ * cp_);
  bias_.Reset(cp_);
  tap_offsets_.Reset(taps_);
  if (!weights_.data() || !bias_.data() || !tap_offsets_.data()) return false;
  for (int oc = 0; oc < g.out_c; ++oc) {
    for (int t = 0; t < taps_; ++t) weights_[int64_t{t} * cp_ + oc] = filter[int64_t{t} * g.out_c + oc];
    bias_[oc] = bias ? bias[oc] : 0.0f;
  }
  for (int ky = 0; ky < g.k_h; ++ky)
    for (int kx = 0; kx < g.k_w; ++kx) tap_offsets_[ky * g.k_w + kx] = (ky * g.dilation_h * wp_ + kx * g.dilation_w) * cp_;
  return true;
}

void F32DwConv2dAvx2::FillRow(const float* input, int n, int y, float* dst) const {
  const int iy = y - g_.pad_top;
  if (iy < 0 || iy >= g_.in_h) {
    std::memset(dst, 0, sizeof(float) * wp_ * cp_);
    return;
  }
  const int x_begin = g_.pad_left < wp_ ? g_.pad_left : wp_;
  const int x_end = g_.pad_left + g_.in_w < wp_ ? g_.pad_left + g_.in_w : wp_;
  std::memset(dst, 0, sizeof(float) * x_begin * cp_);
  std::memset(dst + int64_t{x_end} * cp_, 0, sizeof(float) * (wp_ - x_end) * cp_);
  const float* src = input + ((int64_t{n} * g_.in_h + iy) * g_.in_w + (x_begin - g_.pad_left)) * g_.in_c;
  float* d = dst + int64_t{x_begin} * cp_;
  const int m = g_.depth_multiplier;
  if (m == 1 && cp_ == g_.in_c) {
    std::memcpy(d, src, sizeof(float) * (x_end - x_begin) * cp_);
  } else {
    for (int x = x_begin; x < x_end; ++x, src += g_.in_c, d += cp_) {
      for (int c = 0; c < g_.in_c; ++c)
        for (int j = 0; j < m; ++j) d[c * m + j] = src[c];
      std::memset(d + g_.out_c, 0, sizeof(float) * (cp_ - g_.out_c));
    }
  }
}

template <int kTaps>
void F32DwConv2dAvx2::ComputeRow(const float* base, float* out_row) const {
  const int taps = kTaps > 0 ? kTaps : taps_;
  const int x_step = g_.stride_w * cp_;
  const __m256 lo = _mm256_set1_ps(clamp_.min), hi = _mm256_set1_ps(clamp_.max);
  for (int c0 = 0; c0 < cp_; c0 += kLanes) {
    const __m256 bias = _mm256_load_ps(bias_.data() + c0);
    const int count = g_.out_c - c0 < kLanes ? g_.out_c - c0 : kLanes;
    const __m256i store_mask = FirstLanes(count);
    __m256 w_fixed[kTaps > 0 ? kTaps : 1];
    int32_t offsets[kTaps > 0 ? kTaps : 1];
    if constexpr (kTaps > 0) {
      for (int t = 0; t < kTaps; ++t) {
        w_fixed[t] = _mm256_load_ps(weights_.data() + int64_t{t} * cp_ + c0);
        offsets[t] = tap_offsets_[t];
      }
    }
    const float* a = base + c0;
    float* dst = out_row + c0;
    for (int ox = 0; ox < g_.out_w; ++ox, a += x_step, dst += g_.out_c) {
      __m256 acc = _mm256_setzero_ps();
#pragma GCC unroll 9
      for (int t = 0; t < taps; ++t) {
        const int off = kTaps > 0 ? offsets[t] : tap_offsets_[t];
        const __m256 w = kTaps > 0 ? w_fixed[t] : _mm256_load_ps(weights_.data() + int64_t{t} * cp_ + c0);
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + off), w, acc);
      }
      // std::min(std::max(acc + bias, lo), hi), NaN behaviour included.
      const __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_add_ps(acc, bias)));
      if (count == kLanes)
        _mm256_storeu_ps(dst, v);
      else
        _mm256_maskstore_ps(dst, store_mask, v);
    }
  }
}

// Band `task` (image task / bands, rows [oy0, oy1)): fill its view rows into `slot`, then
// compute its output rows.
void F32DwConv2dAvx2::RunBand(const float* input, float* output, float* slot, int task) const {
  const Band b = BandOf(bands_, g_, task);
  const int64_t row_elements = int64_t{wp_} * cp_;
  for (int j = 0; j < b.view_rows; ++j) FillRow(input, b.n, b.oy0 * g_.stride_h + j, slot + j * row_elements);
  for (int oy = b.oy0; oy < b.oy1; ++oy) {
    const float* base = slot + int64_t{oy - b.oy0} * g_.stride_h * row_elements;
    float* out_row = output + (int64_t{b.n} * g_.out_h + oy) * g_.out_w * g_.out_c;
    if (taps_ == 9)
      ComputeRow<9>(base, out_row);
    else
      ComputeRow<0>(base, out_row);
  }
}

void F32DwConv2dAvx2::Run(const void* input, void* output, void* scratch, int num_threads) const {
  const float* in = static_cast<const float*>(input);
  float* out = static_cast<float*>(output);
  float* slots = static_cast<float*>(scratch);
  const int64_t macs = int64_t{g_.batch} * g_.out_h * g_.out_w * g_.out_c * taps_;
  const int threads = ThreadsFor(macs, kMinMacsPerThread, num_threads < slots_ ? num_threads : slots_);
  host::ParallelFor(threads, g_.batch * bands_.bands, [&](int task, int slot) { RunBand(in, out, slots + slot * slot_elements_, task); });
}

}  // namespace

std::unique_ptr<FastKernel> MakeF32DwConv2dAvx2(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias, int max_threads) {
  if (!GeometryFits(g)) return nullptr;
  if (g.depth_multiplier < 1 || g.out_c != g.in_c * g.depth_multiplier) return nullptr;
  auto kernel = std::make_unique<F32DwConv2dAvx2>();
  if (!kernel->Init(g, clamp, filter, bias, max_threads)) return nullptr;
  return kernel;
}

}  // namespace personcls::x86
