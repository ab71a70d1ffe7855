// f32_conv2d_avx2 / f32_conv2d_1x1_avx2: float CONV_2D for AVX2+FMA, any kernel size,
// stride, dilation and padding; within 1e-5 relative of ref::f32_conv2d.
//
// The microkernel computes a tile of 6 output pixels x 16 output channels (8 when Cout <= 8),
// or of 3 pixels x 32 channels when a band's pixel count wastes less in tiles of 3 (the
// 3x3 layers at the end of MobileNetV1: 9 pixels are 2 tiles of 6 with 3 computed for
// nothing, but exactly 3 tiles of 3). For every
// window value it broadcasts the value of each pixel and FMAs it with the packed weights
// of the output channels. The window is walked in "segments", runs contiguous in memory:
// a window row (Kw * Cin values) when dilation_w == 1, else a tap (Cin values). Each
// output accumulates in the reference's order ((ky, kx, c) ascending, bias last), so the
// only difference from the reference is FMA's single rounding.
//
// Run splits the output into bands of whole rows (conv_layout.h, PlanBands) that the
// threads of the pool take one at a time. The input is read in place when no window
// leaves it (1x1, VALID); otherwise a band first copies the rows of the zero-padded view
// (conv_layout.h) that its windows reach into its thread's slot of scratch
// [view_rows][Wp][Cin] (a padded tap then adds 0 * w, which leaves the sum unchanged, as
// the skipped tap does in the reference). Scratch is max_threads slots of a few rows.
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

constexpr int kMr = 6;      // output pixels per tile of one or two vectors of 8 channels
constexpr int kMrWide = 3;  // output pixels per tile of four vectors (32 channels)
// Multiply-accumulates below which another thread costs more than it saves, and the
// work of one band.
constexpr int64_t kMinMacsPerThread = 256 * 1024;
constexpr int64_t kBandMacs = 64 * 1024;

class F32Conv2dAvx2 final : public FastKernel {
 public:
  bool Init(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias, int max_threads);
  void Run(const void* input, void* output, void* scratch, int num_threads) const override;
  size_t scratch_bytes() const override { return padded_ ? sizeof(float) * size_t{1} * slots_ * slot_elements_ : 0; }
  size_t persistent_bytes() const override { return weights_.bytes() + bias_.bytes() + segment_offsets_.bytes(); }
  std::string name() const override { return g_.k_h == 1 && g_.k_w == 1 ? "f32_conv2d_1x1_avx2" : "f32_conv2d_avx2"; }

 private:
  void PadRow(const float* input, int n, int y, float* dst) const;
  void RunBand(const float* input, float* output, float* slot, int task) const;
  // Output channels [ob * 8 * kVectors, + 8 * kVectors) of one tile.
  // kSegments, kLength: the window's shape when fixed at compile time (the 3x3 stems over
  // 3 channels: 3 segments of 9), 0 for any.
  template <int kPixels, int kVectors, int kSegments = 0, int kLength = 0>
  void ComputeTileBlock(const float* const* a, float* const* dst, int valid, int ob) const;
  template <int kPixels, int kVectors>
  void RunTiles(const Band& b, const float* src, float* output) const;

  ConvGeometry g_;
  F32Clamp clamp_{0, 0};
  BandPlan bands_;
  bool padded_ = false;        // input goes through the zero-padded copy in scratch
  int slots_ = 1;              // per-thread slots of scratch (max_threads)
  int64_t slot_elements_ = 0;  // floats per slot: view_rows * Wp * Cin, in cache lines
  int segments_ = 0;           // Kh (dilation_w == 1) or Kh * Kw
  int segment_length_ = 0;     // Kw * Cin or Cin
  int wp_ = 0;                 // padded view width (used when padded_)
  int src_w_ = 0;              // columns of what the microkernel reads (Wp or W)
  int vectors_ = 0;            // vectors of 8 output channels per tile: 1, 2 or 4
  int nr_ = 0;                 // output channels per tile: 8 * vectors_
  int oc_blocks_ = 0;          // ceil(Cout / nr_)
  int64_t macs_ = 0;
  AlignedBuffer<float> weights_;            // [oc_blocks][segments][segment_length][nr]
  AlignedBuffer<float> bias_;               // [oc_blocks * nr]
  AlignedBuffer<int32_t> segment_offsets_;  // [segments], floats from a window origin
};

bool F32Conv2dAvx2::Init(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias, int max_threads) {
  g_ = g;
  clamp_ = clamp;
  bands_ = PlanBands(g, kBandMacs);
  const bool row_segments = g.dilation_w == 1;
  segments_ = row_segments ? g.k_h : g.k_h * g.k_w;
  segment_length_ = row_segments ? g.k_w * g.in_c : g.in_c;
  const PaddedExtent e = ComputePaddedExtent(g);
  padded_ = e.needs_padding;
  wp_ = e.w;
  src_w_ = padded_ ? wp_ : g.in_w;
  slots_ = max_threads < 1 ? 1 : (max_threads > host::kMaxThreads ? host::kMaxThreads : max_threads);
  slot_elements_ = static_cast<int64_t>(CacheLines(sizeof(float) * int64_t{bands_.view_rows} * wp_ * g.in_c) / sizeof(float));
  // Pixels computed for nothing when a full band's pixels go in tiles of `tile`.
  const int band_pixels = bands_.rows * g.out_w;
  auto waste = [band_pixels](int tile) { return (band_pixels + tile - 1) / tile * tile - band_pixels; };
  vectors_ = g.out_c <= 8 ? 1 : (g.out_c >= 32 && waste(kMrWide) < waste(kMr) ? 4 : 2);
  nr_ = 8 * vectors_;
  oc_blocks_ = (g.out_c + nr_ - 1) / nr_;
  macs_ = int64_t{g.batch} * g.out_h * g.out_w * g.out_c * g.k_h * g.k_w * g.in_c;
  const int padded_oc = oc_blocks_ * nr_;
  const int64_t window = int64_t{g.k_h} * g.k_w * g.in_c;  // = segments * segment_length
  weights_.Reset(size_t{1} * padded_oc * window);
  bias_.Reset(padded_oc);
  segment_offsets_.Reset(segments_);
  if (!weights_.data() || !bias_.data() || !segment_offsets_.data()) return false;
  // filter [Cout][Kh][Kw][Cin] -> [ob][e][j], e the window index in filter order (segment
  // s, value v is e = s * segment_length + v in both), oc = ob * nr + j.
  for (int oc = 0; oc < g.out_c; ++oc) {
    const int ob = oc / nr_, j = oc % nr_;
    for (int64_t e = 0; e < window; ++e) weights_[(ob * window + e) * nr_ + j] = filter[oc * window + e];
    bias_[oc] = bias ? bias[oc] : 0.0f;
  }
  for (int s = 0; s < segments_; ++s) {
    const int ky = row_segments ? s : s / g.k_w;
    const int kx = row_segments ? 0 : s % g.k_w;
    segment_offsets_[s] = (ky * g.dilation_h * src_w_ + kx * g.dilation_w) * g.in_c;
  }
  return true;
}

// Writes row y of image n's zero-padded view to dst [Wp][Cin].
void F32Conv2dAvx2::PadRow(const float* input, int n, int y, float* dst) const {
  const int iy = y - g_.pad_top;
  if (iy < 0 || iy >= g_.in_h) {
    std::memset(dst, 0, sizeof(float) * wp_ * g_.in_c);
    return;
  }
  const int x_begin = g_.pad_left < wp_ ? g_.pad_left : wp_;
  const int x_end = g_.pad_left + g_.in_w < wp_ ? g_.pad_left + g_.in_w : wp_;
  std::memset(dst, 0, sizeof(float) * x_begin * g_.in_c);
  std::memset(dst + int64_t{x_end} * g_.in_c, 0, sizeof(float) * (wp_ - x_end) * g_.in_c);
  std::memcpy(dst + int64_t{x_begin} * g_.in_c,
              input + ((int64_t{n} * g_.in_h + iy) * g_.in_w + (x_begin - g_.pad_left)) * g_.in_c,
              sizeof(float) * (x_end - x_begin) * g_.in_c);
}

// Band `task` (image task / bands, rows [oy0, oy1)): pad its view rows into `slot` (or
// read the input in place), then compute its pixels in tiles (RunTiles).
void F32Conv2dAvx2::RunBand(const float* input, float* output, float* slot, int task) const {
  const Band b = BandOf(bands_, g_, task);
  const int64_t row_elements = int64_t{src_w_} * g_.in_c;
  const float* src;  // the band's first view row
  if (padded_) {
    for (int j = 0; j < b.view_rows; ++j) PadRow(input, b.n, b.oy0 * g_.stride_h + j, slot + j * row_elements);
    src = slot;
  } else {
    src = input + (int64_t{b.n} * g_.in_h + int64_t{b.oy0} * g_.stride_h) * row_elements;
  }
  if (vectors_ == 4)
    RunTiles<kMrWide, 4>(b, src, output);
  else if (vectors_ == 2)
    RunTiles<kMr, 2>(b, src, output);
  else
    RunTiles<kMr, 1>(b, src, output);
}

// The band's pixels in tiles of kPixels x (8 * kVectors) channels.
template <int kPixels, int kVectors>
void F32Conv2dAvx2::RunTiles(const Band& b, const float* src, float* output) const {
  const int64_t row_elements = int64_t{src_w_} * g_.in_c;
  ForEachTileChunk<kPixels>(g_, b, src, g_.stride_h * row_elements, int64_t{g_.stride_w} * g_.in_c, output,
                            [&](const TileChunk<kPixels, float, float>& c) {
    for (int ob = 0; ob < oc_blocks_; ++ob)
      for (int t = 0; t < c.count; ++t) {
        if (kVectors == 2 && segments_ == 3 && segment_length_ == 9)
          ComputeTileBlock<kPixels, kVectors, 3, 9>(c.a[t], c.dst[t], c.valid[t], ob);
        else
          ComputeTileBlock<kPixels, kVectors>(c.a[t], c.dst[t], c.valid[t], ob);
      }
  });
}

// kPixels pixels (window origins a[i], outputs dst[i] for i < valid), output channels
// [ob * kVectors * 8, + kVectors * 8).
template <int kPixels, int kVectors, int kSegments, int kLength>
void F32Conv2dAvx2::ComputeTileBlock(const float* const* a, float* const* dst, int valid, int ob) const {
  constexpr int kMr = kPixels;
  constexpr int kNr = 8 * kVectors;
  const int segments = kSegments > 0 ? kSegments : segments_, length = kLength > 0 ? kLength : segment_length_;
  const __m256 lo = _mm256_set1_ps(clamp_.min), hi = _mm256_set1_ps(clamp_.max);
  {
    // acc[i][v]: pixel i, output channels ob * kNr + 8 v .. + 7. Every loop over i or v
    // is fully unrolled, so the accumulators live in registers.
    __m256 acc[kMr][kVectors];
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm256_setzero_ps();
    const float* w = weights_.data() + int64_t{ob} * segments * length * kNr;
#pragma GCC unroll 3
    for (int s = 0; s < segments; ++s) {
      const int off = segment_offsets_[s];
      const float* p[kMr];
#pragma GCC unroll 6
      for (int i = 0; i < kMr; ++i) p[i] = a[i] + off;
#pragma GCC unroll 9
      for (int c = 0; c < length; ++c, w += kNr) {
        __m256 wv[kVectors];
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) wv[v] = _mm256_load_ps(w + 8 * v);
#pragma GCC unroll 6
        for (int i = 0; i < kMr; ++i) {
          const __m256 x = _mm256_broadcast_ss(p[i] + c);
#pragma GCC unroll 4
          for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm256_fmadd_ps(x, wv[v], acc[i][v]);
        }
      }
    }
    __m256 bias[kVectors];
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) bias[v] = _mm256_load_ps(bias_.data() + ob * kNr + 8 * v);
    const int oc0 = ob * kNr;
    const int count = g_.out_c - oc0 < kNr ? g_.out_c - oc0 : kNr;
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      if (i >= valid) break;
      float* d = dst[i] + oc0;
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) {
        // std::min(std::max(acc + bias, lo), hi) with its NaN behaviour: max_ps/min_ps
        // return their second operand when unordered.
        const __m256 r = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_add_ps(acc[i][v], bias[v])));
        if (count == kNr)
          _mm256_storeu_ps(d + 8 * v, r);
        else if (count > 8 * v)
          _mm256_maskstore_ps(d + 8 * v, FirstLanes(count - 8 * v), r);
      }
    }
  }
}

void F32Conv2dAvx2::Run(const void* input, void* output, void* scratch, int num_threads) const {
  const float* in = static_cast<const float*>(input);
  float* out = static_cast<float*>(output);
  float* slots = static_cast<float*>(scratch);
  const int tasks = g_.batch * bands_.bands;
  const int threads = ThreadsFor(macs_, kMinMacsPerThread, padded_ && num_threads > slots_ ? slots_ : num_threads);
  host::ParallelFor(threads, tasks, [&](int task, int slot) { RunBand(in, out, padded_ ? slots + slot * slot_elements_ : nullptr, task); });
}

}  // namespace

std::unique_ptr<FastKernel> MakeF32Conv2dAvx2(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias,
                                              int max_threads) {
  if (!GeometryFits(g)) return nullptr;
  auto kernel = std::make_unique<F32Conv2dAvx2>();
  if (!kernel->Init(g, clamp, filter, bias, max_threads)) return nullptr;
  return kernel;
}

}  // namespace personcls::x86
