// f32_conv2d_3x3s1_winograd_avx2: float CONV_2D with a 3x3 kernel, stride 1 and dilation
// 1, by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016); within 1e-5 relative of ref::f32_conv2d.
//
// Each 2x2 block of outputs ("tile") reads a 4x4 input patch d. With
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1],
// the tile is  Y = A^T [ sum_ci (G g G^T) (.) (B^T d B) ] A : per tile and output channel,
// 16 multiplies per input channel instead of 36. The element-wise products summed over
// the input channels are 16 independent matrix products, one per position k of the 4x4
// transform domain: M[k] (tiles x Cout) = V[k] (tiles x Cin) * U[k] (Cin x Cout).
//
// Numerics: the transforms add and subtract inputs before the multiplies, so the result is
// not the reference's sum in another order; for layers of a trained network (sums of
// order 1) it stays within 1e-5 (conv2d_fast_test checks max(1e-5 |ref|, 1e-5)). U is
// computed in double and rounded once. An infinite input can give NaN where the
// reference gives +-inf (the transforms subtract it from itself); NaN stays NaN.
//
// Run splits the image into bands of 24 consecutive tiles that the pool's threads take one
// at a time. A band first transforms its input patches (zero outside the input: padding) into
// its thread's slot of scratch, V [16][tiles][Cin rounded up to 8]. Then, per block of 16
// output channels, for each position k the microkernel walks the band's tiles kMr at a
// time with the same 16 x Cin slice of U (so U is read once per band: the weights of a
// 128-channel layer are 1 MB), filling M [16][tiles][16] in the slot; the output
// transform then adds the bias, clamps and stores.
#include <immintrin.h>

#include <string>

#include "runtime/host/thread_pool.h"
#include "runtime/x86/aligned_buffer.h"
#include "runtime/x86/conv_layout.h"
#include "runtime/x86/lanes_avx2.h"
#include "runtime/x86/winograd_tiles.h"
#include "runtime/x86/x86_kernels.h"

namespace personcls::x86 {
namespace {

constexpr int kMr = 6;   // tiles per microkernel call
constexpr int kNr = 16;  // output channels per microkernel call (two vectors)
constexpr int kPositions = 16;
// Tiles per band when the image has that many: enough rows of V for the microkernel and
// few enough that V (16 * tiles * Cin floats) stays in L2.
constexpr int kBandTiles = 24;  // a multiple of kMr
constexpr int64_t kMinMacsPerThread = 256 * 1024;

class F32Conv2d3x3s1WinogradAvx2 final : public FastKernel {
 public:
  bool Init(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias, int max_threads);
  void Run(const void* input, void* output, void* scratch, int num_threads) const override;
  size_t scratch_bytes() const override { return sizeof(float) * size_t{1} * slots_ * slot_elements_; }
  size_t persistent_bytes() const override { return u_.bytes() + bias_.bytes(); }
  std::string name() const override { return "f32_conv2d_3x3s1_winograd_avx2"; }

 private:
  void TransformInput(const float* input, const WinogradBand& b, float* v) const;
  void RunBand(const float* input, float* output, float* v, int task) const;
  void Multiply(const float* v, int tiles, int ob, float* m) const;
  void TransformOutput(const float* m, const WinogradBand& b, int ob, float* output) const;

  ConvGeometry g_;
  F32Clamp clamp_{0, 0};
  int cin_p_ = 0;              // Cin rounded up to 8
  WinogradTiles tiles_;
  int oc_blocks_ = 0;          // ceil(Cout / 16)
  int slots_ = 1;
  int64_t v_elements_ = 0;     // 16 * band tiles * cin_p, in cache lines
  int64_t slot_elements_ = 0;  // V, then M: 16 * (band tiles rounded up to kMr) * 16
  int64_t macs_ = 0;
  AlignedBuffer<float> u_;     // [oc_blocks][16][Cin][16]: G g G^T per position k
  AlignedBuffer<float> bias_;  // [oc_blocks * 16]
};

bool F32Conv2d3x3s1WinogradAvx2::Init(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias,
                                      int max_threads) {
  g_ = g;
  clamp_ = clamp;
  cin_p_ = RoundUp(g.in_c, 8);
  oc_blocks_ = (g.out_c + kNr - 1) / kNr;
  slots_ = max_threads < 1 ? 1 : (max_threads > host::kMaxThreads ? host::kMaxThreads : max_threads);
  tiles_ = WinogradTiles::Plan(g, kBandTiles, slots_, kMr);
  v_elements_ = static_cast<int64_t>(CacheLines(sizeof(float) * kPositions * int64_t{tiles_.band_tiles} * cin_p_) / sizeof(float));
  slot_elements_ = v_elements_ + int64_t{kPositions} * RoundUp(tiles_.band_tiles, kMr) * kNr;
  macs_ = int64_t{g.batch} * g.out_h * g.out_w * g.out_c * 9 * g.in_c;
  u_.Reset(size_t{1} * oc_blocks_ * kPositions * g.in_c * kNr);
  bias_.Reset(size_t{1} * oc_blocks_ * kNr);
  if (!u_.data() || !bias_.data()) return false;
  // filter [Cout][3][3][Cin]; U = G g G^T, 4x4, position k = 4 * row + column.
  static const double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  for (int oc = 0; oc < g.out_c; ++oc) {
    const int ob = oc / kNr, j = oc % kNr;
    bias_[oc] = bias ? bias[oc] : 0.0f;
    for (int ci = 0; ci < g.in_c; ++ci) {
      double w[3][3], gw[4][3];
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) w[ky][kx] = filter[((int64_t{oc} * 3 + ky) * 3 + kx) * g.in_c + ci];
      for (int r = 0; r < 4; ++r)
        for (int kx = 0; kx < 3; ++kx) gw[r][kx] = kG[r][0] * w[0][kx] + kG[r][1] * w[1][kx] + kG[r][2] * w[2][kx];
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) {
          const double u = gw[r][0] * kG[c][0] + gw[r][1] * kG[c][1] + gw[r][2] * kG[c][2];
          u_[((int64_t{ob} * kPositions + 4 * r + c) * g.in_c + ci) * kNr + j] = static_cast<float>(u);
        }
    }
  }
  return true;
}

// V[k][t][c] = (B^T d B)[k] for the band's tiles, all input channels
// (those past Cin are zero).
void F32Conv2d3x3s1WinogradAvx2::TransformInput(const float* input, const WinogradBand& b, float* v) const {
  const int in_h = g_.in_h, in_w = g_.in_w, in_c = g_.in_c;
  const float* image = input + int64_t{b.n} * in_h * in_w * in_c;
  const int64_t k_stride = int64_t{b.tiles} * cin_p_;
  for (int t = 0; t < b.tiles; ++t) {
    const auto [y0, x0, inside] = b.PatchOf(tiles_, g_, t);
    for (int c = 0; c < cin_p_; c += 8) {
      const int lanes = in_c - c < 8 ? in_c - c : 8;
      const __m256i mask = FirstLanes(lanes);
      __m256 d[4][4];
      for (int r = 0; r < 4; ++r)
        for (int q = 0; q < 4; ++q) {
          const int y = y0 + r, x = x0 + q;
          if (!inside && (y < 0 || y >= in_h || x < 0 || x >= in_w)) {
            d[r][q] = _mm256_setzero_ps();
            continue;
          }
          const float* p = image + (int64_t{y} * in_w + x) * in_c + c;
          d[r][q] = lanes == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
        }
      // Rows: B^T d.
      __m256 e[4][4];
      for (int q = 0; q < 4; ++q) {
        e[0][q] = _mm256_sub_ps(d[0][q], d[2][q]);
        e[1][q] = _mm256_add_ps(d[1][q], d[2][q]);
        e[2][q] = _mm256_sub_ps(d[2][q], d[1][q]);
        e[3][q] = _mm256_sub_ps(d[1][q], d[3][q]);
      }
      // Columns: (B^T d) B.
      float* dst = v + int64_t{t} * cin_p_ + c;
      for (int r = 0; r < 4; ++r) {
        _mm256_storeu_ps(dst + (4 * r + 0) * k_stride, _mm256_sub_ps(e[r][0], e[r][2]));
        _mm256_storeu_ps(dst + (4 * r + 1) * k_stride, _mm256_add_ps(e[r][1], e[r][2]));
        _mm256_storeu_ps(dst + (4 * r + 2) * k_stride, _mm256_sub_ps(e[r][2], e[r][1]));
        _mm256_storeu_ps(dst + (4 * r + 3) * k_stride, _mm256_sub_ps(e[r][1], e[r][3]));
      }
    }
  }
}

// M[k][t][j] = sum_c V[k][t][c] * U[ob][k][c][j] for every tile t of the band and j < 16.
// M has RoundUp(tiles, kMr) rows per k: a short last block repeats the last tile there.
void F32Conv2d3x3s1WinogradAvx2::Multiply(const float* v, int tiles, int ob, float* m) const {
  const int in_c = g_.in_c;
  const int64_t k_stride = int64_t{tiles} * cin_p_;
  const int m_rows = RoundUp(tiles, kMr);
  for (int k = 0; k < kPositions; ++k) {
    const float* u_k = u_.data() + (int64_t{ob} * kPositions + k) * in_c * kNr;
    for (int t0 = 0; t0 < tiles; t0 += kMr) {
      const float* row[kMr];
      for (int i = 0; i < kMr; ++i) row[i] = v + k * k_stride + int64_t{t0 + i < tiles ? t0 + i : tiles - 1} * cin_p_;
      __m256 acc[kMr][2];
#pragma GCC unroll 6
      for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
      const float* u = u_k;
      for (int c = 0; c < in_c; ++c, u += kNr) {
        const __m256 w0 = _mm256_load_ps(u), w1 = _mm256_load_ps(u + 8);
#pragma GCC unroll 6
        for (int i = 0; i < kMr; ++i) {
          const __m256 x = _mm256_broadcast_ss(row[i] + c);
          acc[i][0] = _mm256_fmadd_ps(x, w0, acc[i][0]);
          acc[i][1] = _mm256_fmadd_ps(x, w1, acc[i][1]);
        }
      }
      float* dst = m + (int64_t{k} * m_rows + t0) * kNr;
#pragma GCC unroll 6
      for (int i = 0; i < kMr; ++i) {
        _mm256_storeu_ps(dst + i * kNr, acc[i][0]);
        _mm256_storeu_ps(dst + i * kNr + 8, acc[i][1]);
      }
    }
  }
}

// Y = A^T M A + bias, clamped, for the `tiles` tiles of the band at tile row ty0, output
// channels [ob * 16, + 16).
void F32Conv2d3x3s1WinogradAvx2::TransformOutput(const float* m, const WinogradBand& b, int ob, float* output) const {
  const __m256 lo = _mm256_set1_ps(clamp_.min), hi = _mm256_set1_ps(clamp_.max);
  const int64_t k_stride = int64_t{RoundUp(b.tiles, kMr)} * kNr;
  for (int half = 0; half < 2; ++half) {
    const int oc = ob * kNr + 8 * half;
    const int lanes = g_.out_c - oc < 8 ? g_.out_c - oc : 8;
    if (lanes <= 0) break;
    const __m256i mask = FirstLanes(lanes);
    const __m256 bias = _mm256_load_ps(bias_.data() + oc);
    for (int t = 0; t < b.tiles; ++t) {
      const int oy = b.out_y(tiles_, t), ox = b.out_x(tiles_, t);
      const float* src = m + t * kNr + 8 * half;
      __m256 s[4][4];
      for (int k = 0; k < kPositions; ++k) s[k / 4][k % 4] = _mm256_loadu_ps(src + k * k_stride);
      // Rows: A^T m, 2x4.
      __m256 a[2][4];
      for (int q = 0; q < 4; ++q) {
        a[0][q] = _mm256_add_ps(_mm256_add_ps(s[0][q], s[1][q]), s[2][q]);
        a[1][q] = _mm256_sub_ps(_mm256_sub_ps(s[1][q], s[2][q]), s[3][q]);
      }
      for (int r = 0; r < 2 && oy + r < g_.out_h; ++r) {
        const __m256 y[2] = {_mm256_add_ps(_mm256_add_ps(a[r][0], a[r][1]), a[r][2]),
                             _mm256_sub_ps(_mm256_sub_ps(a[r][1], a[r][2]), a[r][3])};
        for (int q = 0; q < 2 && ox + q < g_.out_w; ++q) {
          // std::min(std::max(y + bias, lo), hi) with its NaN behaviour, as the reference.
          const __m256 out = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_add_ps(y[q], bias)));
          float* d = output + ((int64_t{b.n} * g_.out_h + oy + r) * g_.out_w + ox + q) * g_.out_c + oc;
          if (lanes == 8)
            _mm256_storeu_ps(d, out);
          else
            _mm256_maskstore_ps(d, mask, out);
        }
      }
    }
  }
}

void F32Conv2d3x3s1WinogradAvx2::RunBand(const float* input, float* output, float* slot, int task) const {
  const WinogradBand b(tiles_, task);
  float* v = slot;
  float* m = slot + v_elements_;
  TransformInput(input, b, v);
  for (int ob = 0; ob < oc_blocks_; ++ob) {
    Multiply(v, b.tiles, ob, m);
    TransformOutput(m, b, ob, output);
  }
}

void F32Conv2d3x3s1WinogradAvx2::Run(const void* input, void* output, void* scratch, int num_threads) const {
  const float* in = static_cast<const float*>(input);
  float* out = static_cast<float*>(output);
  float* slots = static_cast<float*>(scratch);
  const int tasks = g_.batch * tiles_.bands;
  const int threads = ThreadsFor(macs_, kMinMacsPerThread, num_threads > slots_ ? slots_ : num_threads);
  host::ParallelFor(threads, tasks, [&](int task, int slot) { RunBand(in, out, slots + slot * slot_elements_, task); });
}

}  // namespace

bool WinogradF32Fits(const ConvGeometry& g) {
  return g.k_h == 3 && g.k_w == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.in_c >= 8 && g.out_c >= 8 && GeometryFits(g);
}

std::unique_ptr<FastKernel> MakeF32Conv2d3x3s1WinogradAvx2(const ConvGeometry& g, F32Clamp clamp, const float* filter,
                                                           const float* bias, int max_threads) {
  if (!WinogradF32Fits(g)) return nullptr;
  auto kernel = std::make_unique<F32Conv2d3x3s1WinogradAvx2>();
  if (!kernel->Init(g, clamp, filter, bias, max_threads)) return nullptr;
  return kernel;
}

}  // namespace personcls::x86
