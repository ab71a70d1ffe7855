// s8_conv2d_avx2 / s8_conv2d_1x1_avx2: int8 CONV_2D for AVX2, any kernel size, stride,
// dilation and padding; bit-exact with ref::s8_conv2d.
//
// Run splits the output into bands of whole rows (conv_layout.h, PlanBands) that the
// threads of the pool take one at a time. Per band:
//  1. Widen: the rows of the padded view (conv_layout.h) that the band's windows reach,
//     int8 -> int16, into the thread's slot of scratch [view_rows][Wp][Cin]. Padding
//     positions hold the input zero point zp: since zp + input_offset == 0 they contribute
//     w * 0, exactly like the taps the reference skips. That makes every tap uniform, so
//     input_offset folds into the bias: sum_t w_t * (x_t + offset) = sum_t w_t * x_t +
//     offset * sum_t w_t. Scratch is max_threads slots of a few rows, not the whole input
//     (the int16 copy of the whole input doubled the arena).
//  2. GEMM-like microkernel over "segments": runs of the window that are contiguous in
//     the slot. With dilation_w == 1 a window row (Kw * Cin values) is one segment,
//     otherwise each tap (Cin values) is. A tile of kMr output pixels x 16 (or 8) output
//     channels accumulates int32 with _mm256_madd_epi16 on pairs of consecutive segment
//     values: the pair (x[e], x[e+1]) of a pixel is broadcast to all lanes and multiplied
//     with the packed pairs (w[oc][e], w[oc][e+1]) of 8 output channels. |x|, |w| <= 128,
//     so a pair sum is at most 2^15 and never saturates. A segment of odd length reads one
//     value past its end (the next pixel, or the zeroed slack after the slot's rows)
//     against a zero weight.
//  3. Requantize (requant_avx2.h), clamp, store int8.
// Every output value is computed by the same instruction sequence whichever thread runs
// its band, so results do not depend on the thread count.
#include <immintrin.h>

#include <cstring>
#include <string>
#include <type_traits>

#include "runtime/host/thread_pool.h"
#include "runtime/x86/aligned_buffer.h"
#include "runtime/x86/conv_layout.h"
#include "runtime/x86/requant_avx2.h"
#include "runtime/x86/x86_kernels.h"

namespace personcls::x86 {
namespace {

constexpr int kMr = 6;  // output pixels per tile
// Output channels per tile: two vectors of 8 int32 accumulators, or one when Cout <= 8
// (the 3-channel stem convolutions have 8 outputs).
constexpr int kMaxVectors = 2;
// Multiply-accumulates below which another thread costs more than it saves, and the
// work of one band.
constexpr int64_t kMinMacsPerThread = 512 * 1024;
constexpr int64_t kBandMacs = 128 * 1024;
// Zeroed int16 values after a slot's rows, read by odd-length segments.
constexpr int kSlack = 16;

class S8Conv2dAvx2 final : public FastKernel {
 public:
  bool Init(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int max_threads);
  void Run(const void* input, void* output, void* scratch, int num_threads) const override;
  size_t scratch_bytes() const override { return sizeof(int16_t) * size_t{1} * slots_ * slot_elements_; }
  size_t persistent_bytes() const override {
    return weights_.bytes() + bias_.bytes() + requant_.bytes() + segment_offsets_.bytes();
  }
  std::string name() const override { return g_.k_h == 1 && g_.k_w == 1 ? "s8_conv2d_1x1_avx2" : "s8_conv2d_avx2"; }

 private:
  void WidenRow(const int8_t* input, int n, int y, int16_t* dst) const;
  void RunBand(const int8_t* input, int8_t* output, int16_t* slot, int task) const;
  // Output channels [ob * 8 * kVectors, + 8 * kVectors) of one tile.
  template <int kVectors>
  void ComputeTileBlock(const int16_t* const* a, int8_t* const* dst, int valid, int ob) const;

  ConvGeometry g_;
  BandPlan bands_;
  int wp_ = 0;                 // padded view width
  int slots_ = 1;              // per-thread slots of scratch (max_threads)
  int64_t slot_elements_ = 0;  // int16 per slot: view_rows * Wp * Cin + slack, in cache lines
  int segments_ = 0;           // Kh (dilation_w == 1) or Kh * Kw
  int segment_pairs_ = 0;      // ceil(segment length / 2)
  int vectors_ = 0;            // vectors of 8 output channels per tile: 1 or 2
  int nr_ = 0;                 // output channels per tile: 8 * vectors_
  int oc_blocks_ = 0;          // ceil(Cout / nr_)
  int64_t macs_ = 0;
  int16_t zero_point_ = 0;
  int32_t output_offset_ = 0;
  int8_t act_min_ = -128, act_max_ = 127;
  AlignedBuffer<int16_t> weights_;          // [oc_blocks][segments][segment_pairs][nr][2]
  AlignedBuffer<int32_t> bias_;             // [oc_blocks * nr], input offset folded in
  AlignedBuffer<RequantBlock8> requant_;    // [oc_blocks * nr / 8]
  bool fused_rounding_ = false;             // every block of requant_ takes the fused form
  AlignedBuffer<int32_t> segment_offsets_;  // [segments]: int16 offset from a window origin
};

bool S8Conv2dAvx2::Init(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int max_threads) {
  g_ = g;
  bands_ = PlanBands(g, kBandMacs);
  wp_ = ComputePaddedExtent(g).w;
  slots_ = max_threads < 1 ? 1 : (max_threads > host::kMaxThreads ? host::kMaxThreads : max_threads);
  slot_elements_ = static_cast<int64_t>(CacheLines(sizeof(int16_t) * (int64_t{bands_.view_rows} * wp_ * g.in_c + kSlack)) / sizeof(int16_t));
  const bool row_segments = g.dilation_w == 1;
  segments_ = row_segments ? g.k_h : g.k_h * g.k_w;
  const int segment_length = row_segments ? g.k_w * g.in_c : g.in_c;
  segment_pairs_ = (segment_length + 1) / 2;
  vectors_ = g.out_c <= 8 ? 1 : kMaxVectors;
  nr_ = 8 * vectors_;
  oc_blocks_ = (g.out_c + nr_ - 1) / nr_;
  macs_ = int64_t{g.batch} * g.out_h * g.out_w * g.out_c * g.k_h * g.k_w * g.in_c;
  zero_point_ = static_cast<int16_t>(-q.input_offset);
  output_offset_ = q.output_offset;
  act_min_ = static_cast<int8_t>(q.act_min);
  act_max_ = static_cast<int8_t>(q.act_max);

  const int padded_oc = oc_blocks_ * nr_;
  weights_.Reset(size_t{1} * padded_oc * segments_ * segment_pairs_ * 2);
  bias_.Reset(padded_oc);
  requant_.Reset(padded_oc / 8);
  segment_offsets_.Reset(segments_);
  if (!weights_.data() || !bias_.data() || !requant_.data() || !segment_offsets_.data()) return false;

  // filter [Cout][Kh][Kw][Cin]: segment s, value e is filter element
  // (s * segment_length + e) of the output channel in both layouts (a row segment spans
  // (kx, c) in filter order). Packed as [ob][s][e/2][j][e%2], oc = ob * nr + j; zero
  // beyond Cout and past the segment's end.
  const int64_t filter_per_oc = int64_t{g.k_h} * g.k_w * g.in_c;
  for (int oc = 0; oc < g.out_c; ++oc) {
    const int ob = oc / nr_, j = oc % nr_;
    int64_t weight_sum = 0;
    for (int s = 0; s < segments_; ++s) {
      for (int v = 0; v < segment_length; ++v) {
        const int8_t w = filter[oc * filter_per_oc + int64_t{s} * segment_length + v];
        weight_sum += w;
        weights_[((int64_t{ob} * segments_ + s) * segment_pairs_ + v / 2) * (nr_ * 2) + j * 2 + v % 2] = w;
      }
    }
    const int64_t folded = (bias ? int64_t{bias[oc]} : 0) + int64_t{q.input_offset} * weight_sum;
    bias_[oc] = static_cast<int32_t>(static_cast<uint32_t>(folded));  // wraps as the reference's int32 sum
  }
  fused_rounding_ = FillRequantBlocks(q, g.out_c, padded_oc, requant_.data());
  for (int s = 0; s < segments_; ++s) {
    const int ky = row_segments ? s : s / g.k_w;
    const int kx = row_segments ? 0 : s % g.k_w;
    segment_offsets_[s] = (ky * g.dilation_h * wp_ + kx * g.dilation_w) * g.in_c;
  }
  return true;
}

// Writes row y of image n's padded view, widened to int16, to dst [Wp][Cin].
void S8Conv2dAvx2::WidenRow(const int8_t* input, int n, int y, int16_t* dst) const {
  const int in_c = g_.in_c;
  const int iy = y - g_.pad_top;
  const int16_t zp = zero_point_;
  auto fill = [zp](int16_t* p, int count) {
    const __m256i v = _mm256_set1_epi16(zp);
    int i = 0;
    for (; i + 16 <= count; i += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + i), v);
    for (; i < count; ++i) p[i] = zp;
  };
  if (iy < 0 || iy >= g_.in_h) {
    fill(dst, wp_ * in_c);
    return;
  }
  // Columns [x_begin, x_end) of the view lie inside the input.
  const int x_begin = g_.pad_left < wp_ ? g_.pad_left : wp_;
  const int x_end = g_.pad_left + g_.in_w < wp_ ? g_.pad_left + g_.in_w : wp_;
  fill(dst, x_begin * in_c);
  fill(dst + int64_t{x_end} * in_c, (wp_ - x_end) * in_c);
  const int8_t* src = input + ((int64_t{n} * g_.in_h + iy) * g_.in_w + (x_begin - g_.pad_left)) * in_c;
  int16_t* d = dst + int64_t{x_begin} * in_c;
  const int count = (x_end - x_begin) * in_c;
  int i = 0;
  for (; i + 16 <= count; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < count; ++i) d[i] = src[i];
}

// Band `task` (image task / bands, rows [oy0, oy1)): widen its view rows into `slot`, then
// compute its pixels in tiles of kMr (raster order within the band).
void S8Conv2dAvx2::RunBand(const int8_t* input, int8_t* output, int16_t* slot, int task) const {
  const Band b = BandOf(bands_, g_, task);
  const int64_t row_elements = int64_t{wp_} * g_.in_c;
  for (int j = 0; j < b.view_rows; ++j) WidenRow(input, b.n, b.oy0 * g_.stride_h + j, slot + j * row_elements);
  std::memset(slot + b.view_rows * row_elements, 0, kSlack * sizeof(int16_t));
  ForEachTileChunk<kMr>(g_, b, static_cast<const int16_t*>(slot), g_.stride_h * row_elements, int64_t{g_.stride_w} * g_.in_c, output,
                        [&](const TileChunk<kMr, int16_t, int8_t>& c) {
    for (int ob = 0; ob < oc_blocks_; ++ob)
      for (int t = 0; t < c.count; ++t) {
        if (vectors_ == 2)
          ComputeTileBlock<2>(c.a[t], c.dst[t], c.valid[t], ob);
        else
          ComputeTileBlock<1>(c.a[t], c.dst[t], c.valid[t], ob);
      }
  });
}

// kMr pixels (window origins a[i], outputs dst[i] for i < valid), output channels
// [ob * kVectors * 8, + kVectors * 8).
template <int kVectors>
void S8Conv2dAvx2::ComputeTileBlock(const int16_t* const* a, int8_t* const* dst, int valid, int ob) const {
  constexpr int kNr = 8 * kVectors;
  const int segments = segments_, pairs = segment_pairs_;
  const __m256i out_offset = _mm256_set1_epi32(output_offset_);
  const __m128i act_min = _mm_set1_epi8(act_min_), act_max = _mm_set1_epi8(act_max_);
  {
    // acc[i][v]: pixel i, output channels ob * kNr + 8 v .. + 7. Every loop over i or v
    // is fully unrolled, so the accumulators live in registers.
    __m256i acc[kMr][kVectors];
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < kVectors; ++v)
        acc[i][v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(bias_.data() + ob * kNr + 8 * v));
    const int16_t* w = weights_.data() + int64_t{ob} * segments * pairs * 2 * kNr;
    for (int s = 0; s < segments; ++s) {
      const int off = segment_offsets_[s];
      const int16_t* p[kMr];
#pragma GCC unroll 6
      for (int i = 0; i < kMr; ++i) p[i] = a[i] + off;
      for (int k = 0; k < pairs; ++k, w += 2 * kNr) {
        __m256i wv[kVectors];
#pragma GCC unroll 2
        for (int v = 0; v < kVectors; ++v) wv[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 16 * v));
#pragma GCC unroll 6
        for (int i = 0; i < kMr; ++i) {
          int32_t pair;
          std::memcpy(&pair, p[i] + 2 * k, sizeof(pair));
          const __m256i x = _mm256_set1_epi32(pair);
#pragma GCC unroll 2
          for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm256_add_epi32(acc[i][v], _mm256_madd_epi16(x, wv[v]));
        }
      }
    }
    // Constants as memory operands (the accumulators fill the register file), the form
    // chosen at prepare time.
    const RequantBlock8* rq = &requant_[ob * kVectors];
    const int oc0 = ob * kNr;
    const int count = g_.out_c - oc0 < kNr ? g_.out_c - oc0 : kNr;
    auto store = [&](auto fused_rounding) {
      constexpr bool kFused = decltype(fused_rounding)::value;
#pragma GCC unroll 6
      for (int i = 0; i < kMr; ++i) {
        if (i >= valid) break;
        int8_t* d = dst[i] + oc0;
        __m128i packed;
        if constexpr (kVectors == 2)
          packed = PackClamp16(Requantize8<kFused>(acc[i][0], rq[0], out_offset), Requantize8<kFused>(acc[i][1], rq[1], out_offset),
                               act_min, act_max);
        else
          packed = PackClamp8(Requantize8<kFused>(acc[i][0], rq[0], out_offset), act_min, act_max);
        if (kVectors == 1 && count == 8)
          _mm_storel_epi64(reinterpret_cast<__m128i*>(d), packed);
        else
          StoreFirstBytes(d, packed, count);
      }
    };
    if (fused_rounding_)
      store(std::true_type{});
    else
      store(std::false_type{});
  }
}

void S8Conv2dAvx2::Run(const void* input, void* output, void* scratch, int num_threads) const {
  const int8_t* in = static_cast<const int8_t*>(input);
  int8_t* out = static_cast<int8_t*>(output);
  int16_t* slots = static_cast<int16_t*>(scratch);
  const int tasks = g_.batch * bands_.bands;
  const int threads = ThreadsFor(macs_, kMinMacsPerThread, num_threads < slots_ ? num_threads : slots_);
  host::ParallelFor(threads, tasks, [&](int task, int slot) { RunBand(in, out, slots + slot * slot_elements_, task); });
}

}  // namespace

std::unique_ptr<FastKernel> MakeS8Conv2dAvx2(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias,
                                             int max_threads) {
  if (!GeometryFits(g) || !RequantSupported(q, g.out_c)) return nullptr;
  if (q.input_offset < -127 || q.input_offset > 128) return nullptr;  // zero point must be an int8 value
  auto kernel = std::make_unique<S8Conv2dAvx2>();
  if (!kernel->Init(g, q, filter, bias, max_threads)) return nullptr;
  return kernel;
}

}  // namespace personcls::x86
