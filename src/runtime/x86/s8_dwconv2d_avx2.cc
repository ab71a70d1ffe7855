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
// The 3x3 case (every depthwise layer of the models we run) has its taps unrolled.
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
  void ComputeRow(const int8_t* base, int8_t* out_row) const;

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
};

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
void S8DwConv2dAvx2::ComputeRow(const int8_t* base, int8_t* out_row) const {
  const int taps = kTaps > 0 ? kTaps : taps_;
  const int x_step = g_.stride_w * cp_;
  const __m256i out_offset = _mm256_set1_epi32(output_offset_);
  const __m128i act_min = _mm_set1_epi8(act_min_), act_max = _mm_set1_epi8(act_max_);
  for (int c0 = 0; c0 < cp_; c0 += kLanes) {
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

// Band `task` (image task / bands, rows [oy0, oy1)): fill its view rows into `slot`, then
// compute its output rows.
void S8DwConv2dAvx2::RunBand(const int8_t* input, int8_t* output, int8_t* slot, int task) const {
  const Band b = BandOf(bands_, g_, task);
  const int64_t row_elements = int64_t{wp_} * cp_;
  for (int j = 0; j < b.view_rows; ++j) FillRow(input, b.n, b.oy0 * g_.stride_h + j, slot + j * row_elements);
  for (int oy = b.oy0; oy < b.oy1; ++oy) {
    const int8_t* base = slot + int64_t{oy - b.oy0} * g_.stride_h * row_elements;
    int8_t* out_row = output + (int64_t{b.n} * g_.out_h + oy) * g_.out_w * g_.out_c;
    if (taps_ == 9)
      ComputeRow<9>(base, out_row);
    else
      ComputeRow<0>(base, out_row);
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
