// s8_dwconv2d_avx2 / s8_dwconv2d_3x3_avx2: int8 DEPTHWISE_CONV_2D for AVX2, any kernel
// size, stride, dilation, padding and depth multiplier; bit-exact with ref::s8_dwconv2d.
//
// Run splits the output into bands of whole rows (conv_layout.h, PlanBands) that the
// threads of the pool take one at a time. Per band:
//  1. Copy the rows of the padded view (conv_layout.h) that the band's windows reach into
//     the thread's slot of scratch, expanded to the output channels: [view_rows][Wp][Cp]
//     int8 with element [.., ic * M + m] = input channel ic (M = depth multiplier) and
//     Cp = Cout rounded up to 8. Padding holds the input zero
//     point, which contributes w * (zp + input_offset) = 0 like a skipped tap of the
//     reference, so input_offset folds into the bias (offset * sum of the channel's taps).
//  2. For each output row and block of 8 channels: acc = bias + sum over taps of w * x,
//     8 int32 lanes, one lane per channel; x is sign-extended int8 and the packed weight
//     lane holds w in its low 16 bits and 0 above, so _mm256_madd_epi16 yields w * x.
//  3. Requantize (requant_avx2.h), clamp, store int8.
// The 3x3 case (every depthwise layer of the models we run) has its taps unrolled, and
// takes 16 channels at a time with two taps per _mm256_madd_epi16: the int16 values of taps
// t and t+1 are interleaved per channel (unpacklo/hi_epi16), so every multiply-add lane does
// two real products instead of one. The interleave puts channels {0-3, 8-11} in one
// accumulator and {4-7, 12-15} in the other; weights, biases and requantization constants
// are packed in that order, and _mm256_packs_epi32 (per 128-bit lane) restores channel order.
// A last block of 8 channels (Cout = 16k + 8) runs the one-tap-per-lane loop.
#include <immintrin.h>

#include <cstring>
#include <string>

#include "runtime/host/thread_pool.h"
#include "runtime/x86/aligned_buffer.h"
#include "runtime/x86/conv_layout.h"
#include "runtime/x86/requant_avx2.h"
#include "runtime/x86/x86_kernels.h"

namespace personcls::x86 {
namespace {

constexpr int kLanes = 8;  // channels per vector
// Multiply-accumulates below which another thread costs more than it saves.
constexpr int64_t kMinMacsPerThread = 48 * 1024;
constexpr int64_t kBandMacs = 32 * 1024;  // work of one band

class S8DwConv2dAvx2 final : public FastKernel {
 public:
  bool Init(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int max_threads);
  void Run(const void* input, void* output, void* scratch, int num_threads) const override;
  size_t scratch_bytes() const override { return size_t{1} * slots_ * slot_elements_; }
  size_t persistent_bytes() const override {
    return weights_.bytes() + bias_.bytes() + requant_.bytes() + tap_offsets_.bytes();
  }
  std::string name() const override { return g_.k_h == 3 && g_.k_w == 3 ? "s8_dwconv2d_3x3_avx2" : "s8_dwconv2d_avx2"; }

 private:
  void FillRow(const int8_t* input, int n, int y, int8_t* dst) const;
  void RunBand(const int8_t* input, int8_t* output, int8_t* slot, int task) const;
  // kTaps: the number of taps when known at compile time (9 for 3x3), 0 otherwise.
  template <int kTaps>
  void ComputeRow(const int8_t* base, int8_t* out_row, int c_begin) const;
  // 3x3 only: channels [0, 16 * blocks16_) of a row, two taps per multiply-add.
  void ComputeRow3x3Pairs(const int8_t* base, int8_t* out_row) const;

  ConvGeometry g_;
  int cp_ = 0;           // channels per pixel in the padded view: Cout rounded up to kLanes
  int taps_ = 0;
  int wp_ = 0;
  BandPlan bands_;
  int slots_ = 1;              // per-thread slots of scratch (max_threads)
  int64_t slot_elements_ = 0;  // elements per slot: view_rows * Wp * Cp, in cache lines
  int8_t zero_point_ = 0;
  int32_t output_offset_ = 0;
  int8_t act_min_ = -128, act_max_ = 127;
  AlignedBuffer<int32_t> weights_;        // [taps][cp]: w as int16 in the low half, 0 above
  AlignedBuffer<int32_t> bias_;           // [cp], input offset folded in
  AlignedBuffer<RequantBlock8> requant_;  // [cp / 8]
  AlignedBuffer<int32_t> tap_offsets_;    // [taps], bytes from a window origin
  // 3x3 pair path (channels in blocks of 16, see the top): pair p holds taps 2p and 2p + 1
  // (pair 4: tap 8 and a zero tap).
  int blocks16_ = 0;                           // full blocks of 16 channels
  AlignedBuffer<int16_t> pair_weights_;        // [blocks16][5][2][16]: (w[2p][c], w[2p+1][c]) per lane
  AlignedBuffer<int32_t> pair_bias_;           // [blocks16][2][8]
  AlignedBuffer<RequantBlock8> pair_requant_;  // [blocks16][2]
};

// Lane j (0..7) of half h (0: channels {0-3, 8-11}, 1: {4-7, 12-15}) of a 16-channel
// block holds this channel of the block.
constexpr int PairLaneChannel(int h, int j) { return (j < 4 ? j : j + 4) + 4 * h; }

bool S8DwConv2dAvx2::Init(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int max_threads) {
  g_ = g;
  cp_ = RoundUp(g.out_c, kLanes);
  taps_ = g.k_h * g.k_w;
  const PaddedExtent e = ComputePaddedExtent(g);
  wp_ = e.w;
  bands_ = PlanBands(g, kBandMacs);
  slots_ = max_threads < 1 ? 1 : (max_threads > host::kMaxThreads ? host::kMaxThreads : max_threads);
  slot_elements_ = static_cast<int64_t>(CacheLines(sizeof(int8_t) * int64_t{bands_.view_rows} * wp_ * cp_) / sizeof(int8_t));
  zero_point_ = static_cast<int8_t>(-q.input_offset);
  output_offset_ = q.output_offset;
  act_min_ = static_cast<int8_t>(q.act_min);
  act_max_ = static_cast<int8_t>(q.act_max);
  weights_.Reset(size_t{1} * taps_ * cp_);
  bias_.Reset(cp_);
  requant_.Reset(cp_ / kLanes);
  tap_offsets_.Reset(taps_);
  if (!weights_.data() || !bias_.data() || !requant_.data() || !tap_offsets_.data()) return false;
  // filter [1][Kh][Kw][Cout]
  for (int oc = 0; oc < g.out_c; ++oc) {
    int64_t weight_sum = 0;
    for (int t = 0; t < taps_; ++t) {
      const int8_t w = filter[int64_t{t} * g.out_c + oc];
      weight_sum += w;
      weights_[int64_t{t} * cp_ + oc] = static_cast<int32_t>(static_cast<uint16_t>(int16_t{w}));
    }
    const int64_t folded = (bias ? int64_t{bias[oc]} : 0) + int64_t{q.input_offset} * weight_sum;
    bias_[oc] = static_cast<int32_t>(static_cast<uint32_t>(folded));
  }
  FillRequantBlocks(q, g.out_c, cp_, requant_.data());
  if (taps_ == 9) {
    blocks16_ = cp_ / 16;
    pair_weights_.Reset(size_t{1} * blocks16_ * 5 * 2 * 16);
    pair_bias_.Reset(size_t{1} * blocks16_ * 16);
    pair_requant_.Reset(size_t{1} * blocks16_ * 2);
    if (blocks16_ > 0 && (!pair_weights_.data() || !pair_bias_.data() || !pair_requant_.data())) return false;
    for (int b = 0; b < blocks16_; ++b)
      for (int h = 0; h < 2; ++h)
        for (int j = 0; j < 8; ++j) {
          const int c = b * 16 + PairLaneChannel(h, j);
          pair_bias_[(b * 2 + h) * 8 + j] = c < g.out_c ? bias_[c] : 0;
          FillRequantLane(q, c, g.out_c, pair_requant_[b * 2 + h], j);
          for (int p = 0; p < 5; ++p)
            for (int k = 0; k < 2; ++k) {
              const int t = 2 * p + k;
              const int8_t w = c < g.out_c && t < 9 ? filter[int64_t{t} * g.out_c + c] : 0;
              pair_weights_[(((b * 5 + p) * 2 + h) * 8 + j) * 2 + k] = w;
            }
        }
  }
  for (int ky = 0; ky < g.k_h; ++ky)
    for (int kx = 0; kx < g.k_w; ++kx) tap_offsets_[ky * g.k_w + kx] = (ky * g.dilation_h * wp_ + kx * g.dilation_w) * cp_;
  return true;
}

// Writes row `row` (of N * Hp) of the padded, channel-expanded view.
void S8DwConv2dAvx2::FillRow(const int8_t* input, int n, int y, int8_t* dst) const {
  const int iy = y - g_.pad_top;
  if (iy < 0 || iy >= g_.in_h) {
    std::memset(dst, zero_point_, size_t{1} * wp_ * cp_);
    return;
  }
  const int x_begin = g_.pad_left < wp_ ? g_.pad_left : wp_;
  const int x_end = g_.pad_left + g_.in_w < wp_ ? g_.pad_left + g_.in_w : wp_;
  std::memset(dst, zero_point_, size_t{1} * x_begin * cp_);
  std::memset(dst + int64_t{x_end} * cp_, zero_point_, size_t{1} * (wp_ - x_end) * cp_);
  const int8_t* src = input + ((int64_t{n} * g_.in_h + iy) * g_.in_w + (x_begin - g_.pad_left)) * g_.in_c;
  int8_t* d = dst + int64_t{x_begin} * cp_;
  const int m = g_.depth_multiplier;
  if (m == 1 && cp_ == g_.in_c) {
    std::memcpy(d, src, size_t{1} * (x_end - x_begin) * cp_);
  } else if (m == 1) {
    for (int x = x_begin; x < x_end; ++x, src += g_.in_c, d += cp_) {
      std::memcpy(d, src, g_.in_c);
      std::memset(d + g_.in_c, zero_point_, cp_ - g_.in_c);
    }
  } else {
    const int in_c = g_.in_c, out_c = g_.out_c, cp = cp_;
    const int8_t zp = zero_point_;
    if (in_c == 1) {  // every output channel repeats the single input channel
      for (int x = x_begin; x < x_end; ++x, ++src, d += cp) {
        const __m128i v = _mm_set1_epi8(*src);
        for (int c = 0; c < cp; c += kLanes) _mm_storel_epi64(reinterpret_cast<__m128i*>(d + c), v);
      }
      return;
    }
    for (int x = x_begin; x < x_end; ++x, src += in_c, d += cp) {
      for (int c = 0; c < in_c; ++c)
        for (int j = 0; j < m; ++j) d[c * m + j] = src[c];
      for (int c = out_c; c < cp; ++c) d[c] = zp;
    }
  }
}

template <int kTaps>
void S8DwConv2dAvx2::ComputeRow(const int8_t* base, int8_t* out_row, int c_begin) const {
  const int taps = kTaps > 0 ? kTaps : taps_;
  const int x_step = g_.stride_w * cp_;
  const __m256i out_offset = _mm256_set1_epi32(output_offset_);
  const __m128i act_min = _mm_set1_epi8(act_min_), act_max = _mm_set1_epi8(act_max_);
  for (int c0 = c_begin; c0 < cp_; c0 += kLanes) {
    const __m256i bias = _mm256_load_si256(reinterpret_cast<const __m256i*>(bias_.data() + c0));
    const Requant8 rq = LoadRequant8(requant_[c0 / kLanes]);
    const int count = g_.out_c - c0 < kLanes ? g_.out_c - c0 : kLanes;
    // With kTaps known the weights stay in registers (or the stack) across the row.
    __m256i w_fixed[kTaps > 0 ? kTaps : 1];
    if constexpr (kTaps > 0) {
      for (int t = 0; t < kTaps; ++t)
        w_fixed[t] = _mm256_load_si256(reinterpret_cast<const __m256i*>(weights_.data() + int64_t{t} * cp_ + c0));
    }
    int32_t offsets[kTaps > 0 ? kTaps : 1];
    if constexpr (kTaps > 0) {
      for (int t = 0; t < kTaps; ++t) offsets[t] = tap_offsets_[t];
    }
    const int8_t* a = base + c0;
    int8_t* dst = out_row + c0;
    for (int ox = 0; ox < g_.out_w; ++ox, a += x_step, dst += g_.out_c) {
      __m256i acc = bias;
#pragma GCC unroll 9
      for (int t = 0; t < taps; ++t) {
        const int off = kTaps > 0 ? offsets[t] : tap_offsets_[t];
        const __m256i x = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + off)));
        const __m256i w = kTaps > 0 ? w_fixed[t]
                                    : _mm256_load_si256(reinterpret_cast<const __m256i*>(weights_.data() + int64_t{t} * cp_ + c0));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, w));
      }
      const __m128i packed = PackClamp8(Requantize8(acc, rq, out_offset), act_min, act_max);
      if (count == kLanes) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), packed);
      } else {
        alignas(16) int8_t tmp[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), packed);
        std::memcpy(dst, tmp, count);
      }
    }
  }
}

void S8DwConv2dAvx2::ComputeRow3x3Pairs(const int8_t* base, int8_t* out_row) const {
  const int x_step = g_.stride_w * cp_;
  const __m256i out_offset = _mm256_set1_epi32(output_offset_);
  const __m128i act_min = _mm_set1_epi8(act_min_), act_max = _mm_set1_epi8(act_max_);
  int32_t offsets[9];
  for (int t = 0; t < 9; ++t) offsets[t] = tap_offsets_[t];
  const __m256i zero = _mm256_setzero_si256();
  for (int b = 0; b < blocks16_; ++b) {
    const int c0 = 16 * b;
    const __m256i* w = reinterpret_cast<const __m256i*>(pair_weights_.data() + size_t{1} * b * 5 * 2 * 16);  // [5][2]
    const __m256i bias_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(pair_bias_.data() + b * 16));
    const __m256i bias_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(pair_bias_.data() + b * 16 + 8));
    const Requant8 rq_lo = LoadRequant8(pair_requant_[2 * b]), rq_hi = LoadRequant8(pair_requant_[2 * b + 1]);
    const int count = g_.out_c - c0 < 16 ? g_.out_c - c0 : 16;
    const int8_t* a = base + c0;
    int8_t* dst = out_row + c0;
    auto taps16 = [&](int t) {  // 16 channels of tap t as int16
      return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + offsets[t])));
    };
    for (int ox = 0; ox < g_.out_w; ++ox, a += x_step, dst += g_.out_c) {
      __m256i lo = bias_lo, hi = bias_hi;
#pragma GCC unroll 5
      for (int p = 0; p < 5; ++p) {
        const __m256i xa = taps16(2 * p);
        const __m256i xb = p < 4 ? taps16(2 * p + 1) : zero;
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), _mm256_load_si256(w + 2 * p)));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), _mm256_load_si256(w + 2 * p + 1)));
      }
      // packs_epi32 per 128-bit lane: [0-3 | 4-7] and [8-11 | 12-15] as int16, then to int8.
      const __m256i r16 = _mm256_packs_epi32(Requantize8(lo, rq_lo, out_offset), Requantize8(hi, rq_hi, out_offset));
      const __m128i r8 = _mm_packs_epi16(_mm256_castsi256_si128(r16), _mm256_extracti128_si256(r16, 1));
      const __m128i packed = _mm_min_epi8(_mm_max_epi8(r8, act_min), act_max);
      StoreFirstBytes(dst, packed, count);
    }
  }
}

// Band `task` (image task / bands, rows [oy0, oy1)): fill its view rows into `slot`, then
// compute its output rows.
void S8DwConv2dAvx2::RunBand(const int8_t* input, int8_t* output, int8_t* slot, int task) const {
  const Band b = BandOf(bands_, g_, task);
  const int64_t row_elements = int64_t{wp_} * cp_;
  for (int j = 0; j < b.view_rows; ++j) FillRow(input, b.n, b.oy0 * g_.stride_h + j, slot + j * row_elements);
  for (int oy = b.oy0; oy < b.oy1; ++oy) {
    const int8_t* base = slot + int64_t{oy - b.oy0} * g_.stride_h * row_elements;
    int8_t* out_row = output + (int64_t{b.n} * g_.out_h + oy) * g_.out_w * g_.out_c;
    if (taps_ == 9) {
      ComputeRow3x3Pairs(base, out_row);
      ComputeRow<9>(base, out_row, 16 * blocks16_);
    } else {
      ComputeRow<0>(base, out_row, 0);
    }
  }
}

void S8DwConv2dAvx2::Run(const void* input, void* output, void* scratch, int num_threads) const {
  const int8_t* in = static_cast<const int8_t*>(input);
  int8_t* out = static_cast<int8_t*>(output);
  int8_t* slots = static_cast<int8_t*>(scratch);
  const int64_t macs = int64_t{g_.batch} * g_.out_h * g_.out_w * g_.out_c * taps_;
  const int threads = ThreadsFor(macs, kMinMacsPerThread, num_threads < slots_ ? num_threads : slots_);
  host::ParallelFor(threads, g_.batch * bands_.bands, [&](int task, int slot) { RunBand(in, out, slots + slot * slot_elements_, task); });
}

}  // namespace

std::unique_ptr<FastKernel> MakeS8DwConv2dAvx2(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int max_threads) {
  if (!GeometryFits(g) || !RequantSupported(q, g.out_c)) return nullptr;
  if (g.depth_multiplier < 1 || g.out_c != g.in_c * g.depth_multiplier) return nullptr;
  if (q.input_offset < -127 || q.input_offset > 128) return nullptr;  // zero point must be an int8 value
  auto kernel = std::make_unique<S8DwConv2dAvx2>();
  if (!kernel->Init(g, q, filter, bias, max_threads)) return nullptr;
  return kernel;
}

}  // namespace personcls::x86
