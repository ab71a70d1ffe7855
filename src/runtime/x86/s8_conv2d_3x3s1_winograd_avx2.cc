// s8_conv2d_3x3s1_winograd_avx2: int8 CONV_2D with a 3x3 kernel, stride 1 and dilation 1,
// by Winograd's F(2x2, 3x3) in exact integer arithmetic; bit-exact with ref::s8_conv2d.
//
// The transforms of f32_conv2d_3x3s1_winograd_avx2.cc, scaled to integers:
//   V  = B^T d B                 d: the 4x4 int8 input patch, |V| <= 4 * 128 = 512
//   U' = (2G) g (2G)^T = 4 U     g: the 3x3 int8 filter, integer, |U'| <= 9 * 128 = 1152
//   Y' = A^T [ sum_ci U' (.) V ] A = 4 * sum_taps w * x
// All of it in int16 (V, U') and wrapping int32 (products, sums), so Y' is exact modulo
// 2^32; it is exactly 4x the int32 sum the reference accumulates whenever that sum times 4
// fits in int32, which Cin <= 1024 guarantees (|sum| <= 9 * 1024 * 128 * 128 < 2^29).
// Y' >> 2 is then the reference's sum of w * x, and the bias (with the input offset folded
// in as in s8_conv2d_avx2: padding positions hold the input zero point, so every tap is
// uniform and sum w * (x + offset) = sum w * x + offset * sum w) completes the accumulator.
// Requantization is requant_avx2.h's, as the direct kernel's.
//
// Per tile and output channel this takes 16 multiplies per input channel instead of 36.
// The product sum is 16 small matrix products (position k: tiles x Cin times Cin x Cout)
// on _mm256_madd_epi16, which multiplies pairs of input channels: V and U' keep channel
// pairs adjacent. Per band (12 consecutive tiles, the threads' tasks): transform the input
// into the thread's slot of scratch, V [16][tiles][Cin rounded up to 16] int16; then per
// block of kMr tiles and 16 output channels, the microkernel fills M [16][kMr][16] int32
// on the stack and the output transform requantizes and stores.
#include <immintrin.h>

#include <cstring>
#include <string>

#include "runtime/host/thread_pool.h"
#include "runtime/x86/aligned_buffer.h"
#include "runtime/x86/conv_layout.h"
#include "runtime/x86/requant_avx2.h"
#include "runtime/x86/winograd_tiles.h"
#include "runtime/x86/x86_kernels.h"

namespace personcls::x86 {
namespace {

constexpr int kMr = 6;   // tiles per microkernel call
constexpr int kNr = 16;  // output channels per microkernel call (two vectors of int32)
constexpr int kPositions = 16;
// Two microkernel blocks: V (scratch) stays 6 KB per thread at 16 channels, so the fast
// arena of the default model stays within 25 % of the reference kernels'.
constexpr int kBandTiles = 12;
constexpr int64_t kMinMacsPerThread = 512 * 1024;
constexpr int kMaxInputChannels = 1024;

class S8Conv2d3x3s1WinogradAvx2 final : public FastKernel {
 public:
  bool Init(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, int max_threads);
  void Run(const void* input, void* output, void* scratch, int num_threads) const override;
  size_t scratch_bytes() const override { return sizeof(int16_t) * size_t{1} * slots_ * slot_elements_; }
  size_t persistent_bytes() const override { return u_.bytes() + bias_.bytes() + requant_.bytes(); }
  std::string name() const override { return "s8_conv2d_3x3s1_winograd_avx2"; }

 private:
  void TransformInput(const int8_t* input, const WinogradBand& b, int16_t* v) const;
  void Multiply(const int16_t* v, int tiles, int t0, int ob, int32_t* m) const;
  // kFusedRounding: fused_rounding_ (the requantization form of every block).
  template <bool kFusedRounding>
  void TransformOutput(const int32_t* m, const WinogradBand& b, int t0, int count, int ob, int8_t* output) const;
  void RunBand(const int8_t* input, int8_t* output, int16_t* v, int task) const;

  ConvGeometry g_;
  WinogradTiles tiles_;
  int cin_p_ = 0;              // Cin rounded up to 16
  int oc_blocks_ = 0;          // ceil(Cout / 16)
  int slots_ = 1;
  int64_t slot_elements_ = 0;  // int16 per slot: 16 * band tiles * cin_p, in cache lines
  int64_t macs_ = 0;
  int8_t zero_point_ = 0;
  int32_t output_offset_ = 0;
  int8_t act_min_ = -128, act_max_ = 127;
  AlignedBuffer<int16_t> u_;             // [oc_blocks][16][cin_p / 2][16][2]: U' per position k
  AlignedBuffer<int32_t> bias_;          // [oc_blocks * 16], input offset folded in
  AlignedBuffer<RequantBlock8> requant_;  // [oc_blocks * 2]
  bool fused_rounding_ = false;           // every block of requant_ takes the fused form
};

bool S8Conv2d3x3s1WinogradAvx2::Init(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias,
                                     int max_threads) {
  g_ = g;

  cin_p_ = RoundUp(g.in_c, 16);
  oc_blocks_ = (g.out_c + kNr - 1) / kNr;
  slots_ = max_threads < 1 ? 1 : (max_threads > host::kMaxThreads ? host::kMaxThreads : max_threads);
  tiles_ = WinogradTiles::Plan(g, kBandTiles, slots_, kMr);
  slot_elements_ = static_cast<int64_t>(
      CacheLines(sizeof(int16_t) * kPositions * int64_t{tiles_.band_tiles} * cin_p_) / sizeof(int16_t));
  macs_ = int64_t{g.batch} * g.out_h * g.out_w * g.out_c * 9 * g.in_c;
  zero_point_ = static_cast<int8_t>(-q.input_offset);
  output_offset_ = q.output_offset;
  act_min_ = static_cast<int8_t>(q.act_min);
  act_max_ = static_cast<int8_t>(q.act_max);
  const int padded_oc = oc_blocks_ * kNr;
  u_.Reset(size_t{1} * oc_blocks_ * kPositions * cin_p_ * kNr);
  bias_.Reset(padded_oc);
  requant_.Reset(padded_oc / 8);
  if (!u_.data() || !bias_.data() || !requant_.data()) return false;
  static const int kG2[4][3] = {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}};  // 2G
  for (int oc = 0; oc < g.out_c; ++oc) {
    const int ob = oc / kNr, j = oc % kNr;
    int64_t weight_sum = 0;
    for (int ci = 0; ci < g.in_c; ++ci) {
      int w[3][3], gw[4][3];
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          w[ky][kx] = filter[((int64_t{oc} * 3 + ky) * 3 + kx) * g.in_c + ci];
          weight_sum += w[ky][kx];
        }
      for (int r = 0; r < 4; ++r)
        for (int kx = 0; kx < 3; ++kx) gw[r][kx] = kG2[r][0] * w[0][kx] + kG2[r][1] * w[1][kx] + kG2[r][2] * w[2][kx];
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) {
          const int u = gw[r][0] * kG2[c][0] + gw[r][1] * kG2[c][1] + gw[r][2] * kG2[c][2];
          u_[(((int64_t{ob} * kPositions + 4 * r + c) * (cin_p_ / 2) + ci / 2) * kNr + j) * 2 + ci % 2] = static_cast<int16_t>(u);
        }
    }
    const int64_t folded = (bias ? int64_t{bias[oc]} : 0) + int64_t{q.input_offset} * weight_sum;
    bias_[oc] = static_cast<int32_t>(static_cast<uint32_t>(folded));  // wraps as the reference's int32 sum
  }
  fused_rounding_ = FillRequantBlocks(q, g.out_c, padded_oc, requant_.data());
  return true;
}

// Loads 16 int8 channels [c, c + 16) of input pixel p, widened; only `lanes` of them are
// read (the rest are 0).
inline __m256i Load16(const int8_t* p, int lanes) {
  if (lanes == 16) return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  alignas(16) int8_t tmp[16] = {};
  std::memcpy(tmp, p, lanes);
  return _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
}

// V[k][t][c] = (B^T d B)[k] for the band's tiles; positions outside the input hold the
// zero point. Channels past Cin hold 0 or the zero point: their U' is 0.
void S8Conv2d3x3s1WinogradAvx2::TransformInput(const int8_t* input, const WinogradBand& b, int16_t* v) const {
  const int in_h = g_.in_h, in_w = g_.in_w, in_c = g_.in_c;
  const int8_t* image = input + int64_t{b.n} * in_h * in_w * in_c;
  const int64_t k_stride = int64_t{b.tiles} * cin_p_;
  const __m256i zp = _mm256_set1_epi16(zero_point_);
  for (int t = 0; t < b.tiles; ++t) {
    const auto [y0, x0, inside] = b.PatchOf(tiles_, g_, t);
    for (int c = 0; c < cin_p_; c += 16) {
      const int lanes = in_c - c < 16 ? in_c - c : 16;
      __m256i e[4][4];
      for (int r = 0; r < 4; ++r) {
        __m256i d[4];
        for (int q = 0; q < 4; ++q) {
          const int y = y0 + r, x = x0 + q;
          d[q] = !inside && (y < 0 || y >= in_h || x < 0 || x >= in_w) ? zp
                                                                       : Load16(image + (int64_t{y} * in_w + x) * in_c + c, lanes);
        }
        // Columns first: d B for this row.
        e[r][0] = _mm256_sub_epi16(d[0], d[2]);
        e[r][1] = _mm256_add_epi16(d[1], d[2]);
        e[r][2] = _mm256_sub_epi16(d[2], d[1]);
        e[r][3] = _mm256_sub_epi16(d[1], d[3]);
      }
      // Then rows: B^T (d B).
      int16_t* dst = v + int64_t{t} * cin_p_ + c;
      for (int q = 0; q < 4; ++q) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (0 + q) * k_stride), _mm256_sub_epi16(e[0][q], e[2][q]));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (4 + q) * k_stride), _mm256_add_epi16(e[1][q], e[2][q]));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (8 + q) * k_stride), _mm256_sub_epi16(e[2][q], e[1][q]));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (12 + q) * k_stride), _mm256_sub_epi16(e[1][q], e[3][q]));
      }
    }
  }
}

// m[k][i][j] = sum_c V[k][t0 + i][c] * U'[ob][k][c][j] for i < kMr (rows past the band's
// last tile repeat it), j < 16.
void S8Conv2d3x3s1WinogradAvx2::Multiply(const int16_t* v, int tiles, int t0, int ob, int32_t* m) const {
  const int pairs = cin_p_ / 2;
  const int64_t k_stride = int64_t{tiles} * cin_p_;
  const int16_t* row[kMr];
  for (int i = 0; i < kMr; ++i) row[i] = v + int64_t{t0 + i < tiles ? t0 + i : tiles - 1} * cin_p_;
  const int16_t* u = u_.data() + int64_t{ob} * kPositions * cin_p_ * kNr;
  for (int k = 0; k < kPositions; ++k) {
    __m256i acc[kMr][2];
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    const int64_t offset = k * k_stride;
    for (int p = 0; p < pairs; ++p, u += 2 * kNr) {
      const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(u));
      const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(u + kNr));
#pragma GCC unroll 6
      for (int i = 0; i < kMr; ++i) {
        int32_t pair;
        std::memcpy(&pair, row[i] + offset + 2 * p, sizeof(pair));
        const __m256i x = _mm256_set1_epi32(pair);
        acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(x, w0));
        acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(x, w1));
      }
    }
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(m + (k * kMr + i) * kNr), acc[i][0]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(m + (k * kMr + i) * kNr + 8), acc[i][1]);
    }
  }
}

// Y = (A^T m A) >> 2 + bias, requantized, clamped and stored, for tiles t0 .. t0 + count
// of the band, output channels [ob * 16, + 16).
template <bool kFusedRounding>
void S8Conv2d3x3s1WinogradAvx2::TransformOutput(const int32_t* m, const WinogradBand& b, int t0, int count, int ob,
                                                int8_t* output) const {
  const __m256i out_offset = _mm256_set1_epi32(output_offset_);
  const __m128i act_min = _mm_set1_epi8(act_min_), act_max = _mm_set1_epi8(act_max_);
  const int oc0 = ob * kNr;
  const int channels = g_.out_c - oc0 < kNr ? g_.out_c - oc0 : kNr;
  const Requant8 rq[2] = {LoadRequant8<kFusedRounding>(requant_[ob * 2]), LoadRequant8<kFusedRounding>(requant_[ob * 2 + 1])};
  const __m256i bias[2] = {_mm256_load_si256(reinterpret_cast<const __m256i*>(bias_.data() + oc0)),
                           _mm256_load_si256(reinterpret_cast<const __m256i*>(bias_.data() + oc0 + 8))};
  for (int i = 0; i < count; ++i) {
    const int t = t0 + i;
    const int oy = b.out_y(tiles_, t), ox = b.out_x(tiles_, t);
    __m256i y[2][2][2];  // [row][column][half]
    for (int half = 0; half < 2; ++half) {
      __m256i s[4][4];
      for (int k = 0; k < kPositions; ++k)
        s[k / 4][k % 4] = _mm256_load_si256(reinterpret_cast<const __m256i*>(m + (k * kMr + i) * kNr + 8 * half));
      __m256i a[2][4];
      for (int q = 0; q < 4; ++q) {
        a[0][q] = _mm256_add_epi32(_mm256_add_epi32(s[0][q], s[1][q]), s[2][q]);
        a[1][q] = _mm256_sub_epi32(_mm256_sub_epi32(s[1][q], s[2][q]), s[3][q]);
      }
      for (int r = 0; r < 2; ++r) {
        const __m256i sum0 = _mm256_add_epi32(_mm256_add_epi32(a[r][0], a[r][1]), a[r][2]);
        const __m256i sum1 = _mm256_sub_epi32(_mm256_sub_epi32(a[r][1], a[r][2]), a[r][3]);
        y[r][0][half] = _mm256_add_epi32(_mm256_srai_epi32(sum0, 2), bias[half]);
        y[r][1][half] = _mm256_add_epi32(_mm256_srai_epi32(sum1, 2), bias[half]);
      }
    }
    for (int r = 0; r < 2 && oy + r < g_.out_h; ++r) {
      for (int q = 0; q < 2 && ox + q < g_.out_w; ++q) {
        const __m128i packed = PackClamp16(Requantize8<kFusedRounding>(y[r][q][0], rq[0], out_offset),
                                           Requantize8<kFusedRounding>(y[r][q][1], rq[1], out_offset),
                                           act_min, act_max);
        StoreFirstBytes(output + ((int64_t{b.n} * g_.out_h + oy + r) * g_.out_w + ox + q) * g_.out_c + oc0, packed, channels);
      }
    }
  }
}

void S8Conv2d3x3s1WinogradAvx2::RunBand(const int8_t* input, int8_t* output, int16_t* v, int task) const {
  const WinogradBand b(tiles_, task);
  TransformInput(input, b, v);
  alignas(32) int32_t m[kPositions * kMr * kNr];
  for (int t0 = 0; t0 < b.tiles; t0 += kMr) {
    for (int ob = 0; ob < oc_blocks_; ++ob) {
      Multiply(v, b.tiles, t0, ob, m);
      const int count = b.tiles - t0 < kMr ? b.tiles - t0 : kMr;
      if (fused_rounding_)
        TransformOutput<true>(m, b, t0, count, ob, output);
      else
        TransformOutput<false>(m, b, t0, count, ob, output);
    }
  }
}

void S8Conv2d3x3s1WinogradAvx2::Run(const void* input, void* output, void* scratch, int num_threads) const {
  const int8_t* in = static_cast<const int8_t*>(input);
  int8_t* out = static_cast<int8_t*>(output);
  int16_t* slots = static_cast<int16_t*>(scratch);
  const int tasks = g_.batch * tiles_.bands;
  const int threads = ThreadsFor(macs_, kMinMacsPerThread, num_threads < slots_ ? num_threads : slots_);
  host::ParallelFor(threads, tasks, [&](int task, int slot) { RunBand(in, out, slots + slot * slot_elements_, task); });
}

}  // namespace

bool WinogradS8Fits(const ConvGeometry& g, const S8Requant& q) {
  return g.k_h == 3 && g.k_w == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.in_c >= 8 && g.in_c <= kMaxInputChannels && g.out_c >= 8 && GeometryFits(g) && RequantSupported(q, g.out_c) &&
         q.input_offset >= -127 && q.input_offset <= 128;
}

std::unique_ptr<FastKernel> MakeS8Conv2d3x3s1WinogradAvx2(const ConvGeometry& g, const S8Requant& q, const int8_t* filter,
                                                          const int32_t* bias, int max_threads) {
  if (!WinogradS8Fits(g, q)) return nullptr;
  auto kernel = std::make_unique<S8Conv2d3x3s1WinogradAvx2>();
  if (!kernel->Init(g, q, filter, bias, max_threads)) return nullptr;
  return kernel;
}

}  // namespace personcls::x86
