#include "ops/rep_chain.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "ops/gemm.h"

namespace personcls::ops {

namespace {

// Per-element kernels on one chunk [rows, C]. Each is compiled for AVX2 and for the
// baseline ISA and chosen at load time (GCC function multi-versioning). -ffp-contract=off
// and per-channel loops (no reassociation) make both versions round identically.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PCLS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PCLS_CLONES
#endif

// acc[0..C) += sum of rows of a; acc[C..2C) += sum of squares.
PCLS_CLONES void AccumulateStats(int rows, int c, const float* __restrict a, double* __restrict acc) {
  double* __restrict s = acc;
  double* __restrict q = acc + c;
  for (int r = 0; r < rows; ++r) {
    const float* ar = a + static_cast<int64_t>(r) * c;
    for (int i = 0; i < c; ++i) {
      const double v = ar[i];
      s[i] += v;
      q[i] += v * v;
    }
  }
}

// y = (x - m) * s + b (one BN applied with float coefficients, as batchnorm2d does).
PCLS_CLONES void AffineChunk(int rows, int c, const float* __restrict x, const float* __restrict m, const float* __restrict s, const float* __restrict b,
                             float* __restrict y) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<int64_t>(r) * c;
    float* yr = y + static_cast<int64_t>(r) * c;
    for (int i = 0; i < c; ++i) yr[i] = (xr[i] - m[i]) * s[i] + b[i];
  }
}

// One step of the chain for rows [0, rows): out = bn1(z) + (id(x) + d(x0)), each BN as
// (v - m) * s + b with k = [m1, s1, b1, mid, sid, bid, md, sd, bd] (9 arrays of C).
// Variants without the d term and with a final ReLU, so that the loops carry no branch.
template <bool kD, bool kRelu>
__attribute__((always_inline)) inline void CombineRows(int rows, int c, const float* __restrict z, const float* __restrict x,
                                                       const float* __restrict x0, const float* __restrict k, float* __restrict out) {
  const float *__restrict m1 = k, *__restrict s1 = k + c, *__restrict b1 = k + 2 * c;
  const float *__restrict mi = k + 3 * c, *__restrict si = k + 4 * c, *__restrict bi = k + 5 * c;
  const float *__restrict md = k + 6 * c, *__restrict sd = k + 7 * c, *__restrict bd = k + 8 * c;
  for (int r = 0; r < rows; ++r) {
    const int64_t o = static_cast<int64_t>(r) * c;
    for (int i = 0; i < c; ++i) {
      float y = (x[o + i] - mi[i]) * si[i] + bi[i];
      if constexpr (kD) y = y + ((x0[o + i] - md[i]) * sd[i] + bd[i]);
      float v = (z[o + i] - m1[i]) * s1[i] + b1[i] + y;
      if constexpr (kRelu) v = v < 0.0f ? 0.0f : v;
      out[o + i] = v;
    }
  }
}

// x0 == nullptr: no d term. relu: out = max(out, 0).
PCLS_CLONES void CombineChunk(int rows, int c, const float* z, const float* x, const float* x0, const float* k, bool relu, float* out) {
  if (x0 && relu)
    CombineRows<true, true>(rows, c, z, x, x0, k, out);
  else if (x0)
    CombineRows<true, false>(rows, c, z, x, x0, k, out);
  else if (relu)
    CombineRows<false, true>(rows, c, z, x, x0, k, out);
  else
    CombineRows<false, false>(rows, c, z, x, x0, k, out);
}

// Backward reduction of one step: g = relu'(y) * dout when y != nullptr (written to g),
// else g is read. acc[0..C) += g, acc[C..2C) += g * (z - mz), acc[2C..3C) += g * (x - mx),
// with mz, mx the saved means (as double, like batchnorm2d's GradSums).
template <bool kRelu, bool kX>
__attribute__((always_inline)) inline void GradSumsRows(int rows, int c, const float* __restrict y, const float* __restrict dout, float* __restrict g,
                                                        const float* __restrict z, const double* __restrict mz, const float* __restrict x,
                                                        const double* __restrict mx, double* __restrict acc) {
  double* __restrict sg = acc;
  double* __restrict sz = acc + c;
  double* __restrict sx = acc + 2 * c;
  for (int r = 0; r < rows; ++r) {
    const int64_t o = static_cast<int64_t>(r) * c;
    if constexpr (kRelu)
      for (int i = 0; i < c; ++i) g[o + i] = y[o + i] <= 0.0f ? 0.0f : dout[o + i];
    for (int i = 0; i < c; ++i) {
      const double gv = g[o + i];
      sg[i] += gv;
      sz[i] += gv * (static_cast<double>(z[o + i]) - mz[i]);
      if constexpr (kX) sx[i] += gv * (static_cast<double>(x[o + i]) - mx[i]);
    }
  }
}

PCLS_CLONES void GradSumsChunk(int rows, int c, const float* y, const float* dout, float* g, const float* z, const double* mz, const float* x,
                               const double* mx, double* acc) {
  if (y && x)
    GradSumsRows<true, true>(rows, c, y, dout, g, z, mz, x, mx, acc);
  else if (y)
    GradSumsRows<true, false>(rows, c, y, dout, g, z, mz, x, mx, acc);
  else if (x)
    GradSumsRows<false, true>(rows, c, y, dout, g, z, mz, x, mx, acc);
  else
    GradSumsRows<false, false>(rows, c, y, dout, g, z, mz, x, mx, acc);
}

// dz = a * g - b - (z - m) * k (BN backward), and acc[0..C) += dz.
PCLS_CLONES void BnBackwardChunk(int rows, int c, const float* __restrict g, const float* __restrict z, const float* __restrict m, const float* __restrict a,
                                 const float* __restrict b, const float* __restrict k, float* __restrict dz, double* __restrict acc) {
  for (int r = 0; r < rows; ++r) {
    const int64_t o = static_cast<int64_t>(r) * c;
    for (int i = 0; i < c; ++i) {
      const float v = a[i] * g[o + i] - b[i] - (z[o + i] - m[i]) * k[i];
      dz[o + i] = v;
      acc[i] += v;
    }
  }
}

// out += a * g - b - (x - m) * k (a BN's dx added to what out holds).
PCLS_CLONES void BnBackwardAddChunk(int rows, int c, const float* __restrict g, const float* __restrict x, const float* __restrict m, const float* __restrict a,
                                    const float* __restrict b, const float* __restrict k, float* __restrict out) {
  for (int r = 0; r < rows; ++r) {
    const int64_t o = static_cast<int64_t>(r) * c;
    for (int i = 0; i < c; ++i) out[o + i] = out[o + i] + (a[i] * g[o + i] - b[i] - (x[o + i] - m[i]) * k[i]);
  }
}

// dd = g (first) or dd + g.
PCLS_CLONES void AddGradChunk(int rows, int c, const float* __restrict g, bool first, float* __restrict dd) {
  const int64_t n = static_cast<int64_t>(rows) * c;
  if (first)
    for (int64_t i = 0; i < n; ++i) dd[i] = g[i];
  else
    for (int64_t i = 0; i < n; ++i) dd[i] = dd[i] + g[i];
}

// Rows per chunk: about 64 KB per [chunk, C] tensor (a pass touches up to six of them, so
// they stay in L2), a multiple of the GEMM micro-tile. Depends only on C and Tuning.
int ChunkRows(int c) {
  if (GetTuning().rep_chain_rows_per_chunk > 0) return GetTuning().rep_chain_rows_per_chunk;
  int rows = 16384 / std::max(1, c);
  rows = std::clamp(rows, 4 * kGemmMr, 2048);
  return rows / kGemmMr * kGemmMr;
}

struct Chunks {
  int64_t rows;
  int size;
  int64_t count;
  Chunks(int64_t r, int c) : rows(r), size(ChunkRows(c)), count((r + size - 1) / size) {}
  int64_t begin(int64_t i) const { return i * size; }
  int len(int64_t i) const { return static_cast<int>(std::min<int64_t>(size, rows - i * size)); }
};

// fn(chunk index, first row, rows) for every chunk, in parallel; partial results must go
// to per-chunk slots.
template <typename Fn>
void ForChunks(const Chunks& ch, Fn fn) {
#pragma omp parallel for schedule(dynamic, 1) if (ch.count > 1)
  for (int64_t i = 0; i < ch.count; ++i) fn(i, ch.begin(i), ch.len(i));
}

// Adds the first `width` values of per-chunk partials [count][stride] in chunk order into
// out[width].
void SumPartials(const std::vector<double>& part, int64_t count, int stride, int width, double* out) {
  for (int i = 0; i < width; ++i) out[i] = 0.0;
  for (int64_t ch = 0; ch < count; ++ch)
    for (int i = 0; i < width; ++i) out[i] += part[static_cast<size_t>(ch) * stride + i];
}

// Batch statistics -> the BN's saved stats, running stats and the float coefficients of
// y = (x - m) * s + b. sums = [sum x, sum x^2] over n rows.
void FinishBnForward(const BnRef& bn, int c, int64_t n, const double* sums, float momentum, float eps, float* m, float* s, float* b) {
  const double dn = static_cast<double>(n);
  for (int i = 0; i < c; ++i) {
    const double mean = sums[i] / dn;
    const double var = std::max(0.0, sums[c + i] / dn - mean * mean);
    const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    bn.save_mean[i] = static_cast<float>(mean);
    bn.save_invstd[i] = static_cast<float>(invstd);
    m[i] = bn.save_mean[i];
    s[i] = static_cast<float>(invstd * bn.gamma[i]);
    b[i] = bn.beta[i];
    if (bn.running_mean) {
      const double mom = momentum, unbiased = var * dn / (dn - 1.0);
      bn.running_mean[i] = static_cast<float>((1.0 - mom) * bn.running_mean[i] + mom * mean);
      bn.running_var[i] = static_cast<float>((1.0 - mom) * bn.running_var[i] + mom * unbiased);
    }
  }
  if (bn.num_batches_tracked) ++*bn.num_batches_tracked;
}

// Gradient sums [sum g, sum g * (x - mean)] -> dgamma, dbeta and the float coefficients of
// dx = a * g - b - (x - mean) * k (batchnorm2d_backward_train's formula).
void FinishBnBackward(const BnRef& bn, int c, int64_t n, const double* sg, const double* sgx, float* m, float* a, float* b, float* k) {
  const double dn = static_cast<double>(n);
  for (int i = 0; i < c; ++i) {
    const double invstd = bn.save_invstd[i];
    const double dbeta = sg[i], dgamma = sgx[i] * invstd;
    if (bn.dbeta) bn.dbeta[i] = static_cast<float>(dbeta);
    if (bn.dgamma) bn.dgamma[i] = static_cast<float>(dgamma);
    const double ai = bn.gamma[i] * invstd;
    m[i] = bn.save_mean[i];
    a[i] = static_cast<float>(ai);
    b[i] = static_cast<float>(ai * dbeta / dn);
    k[i] = static_cast<float>(ai * invstd * dgamma / dn);
  }
}

void Validate(const RepChain& p) {
  PCLS_OPS_CHECK(p.rows >= 2 && p.c >= 1 && p.depth >= 1, "need rows >= 2, C >= 1, depth >= 1");
  PCLS_OPS_CHECK(p.id && p.bn1 && p.conv, "null branch arrays");
}

}  // namespace

void rep_chain_forward_train(const RepChain& p, const float* c3out, float* const* x, float* const* z, Workspace* ws) {
  Validate(p);
  const int c = p.c, depth = p.depth;
  const Chunks ch(p.rows, c);
  Workspace& work = ws ? *ws : ThreadWorkspace();
  // wt[i] = w[i]^T ([in, out], the GEMM's B); then the float coefficients.
  const size_t cc = static_cast<size_t>(c) * c;
  float* wt = work.Reserve(depth * cc + 16 * static_cast<size_t>(c));
  for (int i = 0; i < depth; ++i)
    for (int o = 0; o < c; ++o)
      for (int j = 0; j < c; ++j) wt[i * cc + static_cast<size_t>(j) * c + o] = p.conv[i].w[static_cast<size_t>(o) * c + j];
  float* k = wt + depth * cc;  // [m1 s1 b1 | mid sid bid | md sd bd] for CombineChunk
  float* k3 = k + 9 * c;       // n3: m, s, b
  std::vector<double> part(static_cast<size_t>(ch.count) * 4 * c), sums(4 * static_cast<size_t>(c));

  // n3's statistics (one pass over c3out).
  std::fill(part.begin(), part.end(), 0.0);
  ForChunks(ch, [&](int64_t i, int64_t r0, int rows) { AccumulateStats(rows, c, c3out + r0 * c, part.data() + i * 4 * c); });
  SumPartials(part, ch.count, 4 * c, 4 * c, sums.data());
  FinishBnForward(p.n3, c, p.rows, sums.data(), p.momentum, p.eps, k3, k3 + c, k3 + 2 * c);

  // Pass s (0..depth): x[s] from c3out (s == 0) or from z[s-1], x[s-1], x[0]; then, while
  // the chunk is in cache, x[s]'s statistics, z[s] = x[s] w^T + b and z[s]'s statistics.
  for (int s = 0; s <= depth; ++s) {
    const bool last = s == depth;
    const bool use_d = s >= 2;  // step i = s - 1 adds d when i > 0
    std::fill(part.begin(), part.end(), 0.0);
    ForChunks(ch, [&](int64_t i, int64_t r0, int rows) {
      const int64_t o = r0 * c;
      float* xs = x[s] + o;
      if (s == 0)
        AffineChunk(rows, c, c3out + o, k3, k3 + c, k3 + 2 * c, xs);
      else
        CombineChunk(rows, c, z[s - 1] + o, x[s - 1] + o, use_d ? x[0] + o : nullptr, k, last, xs);
      if (last) return;
      double* acc = part.data() + i * 4 * c;
      AccumulateStats(rows, c, xs, acc);
      float* zs = z[s] + o;
      for (int r = 0; r < rows; ++r) std::copy(p.conv[s].b, p.conv[s].b + c, zs + static_cast<int64_t>(r) * c);
      sgemm(false, false, rows, c, c, xs, c, wt + s * cc, c, zs, c, true);
      AccumulateStats(rows, c, zs, acc + 2 * c);
    });
    if (last) break;
    SumPartials(part, ch.count, 4 * c, 4 * c, sums.data());
    // k <- coefficients for step s: bn1[s] from z[s]'s stats, id[s] from x[s]'s; the dense
    // BN (input x[0]) is set once, from x[0]'s stats.
    FinishBnForward(p.bn1[s], c, p.rows, sums.data() + 2 * c, p.momentum, p.eps, k, k + c, k + 2 * c);
    FinishBnForward(p.id[s], c, p.rows, sums.data(), p.momentum, p.eps, k + 3 * c, k + 4 * c, k + 5 * c);
    if (s == 0) FinishBnForward(p.dense, c, p.rows, sums.data(), p.momentum, p.eps, k + 6 * c, k + 7 * c, k + 8 * c);
  }
}

void rep_chain_backward_train(const RepChain& p, const float* c3out, const float* const* x, const float* const* z, const float* dout, float* dc3out,
                              float* c3_bias_grad, float* g0, float* g1, float* dd, Workspace* ws) {
  Validate(p);
  const int c = p.c, depth = p.depth;
  const Chunks ch(p.rows, c);
  const int threads = MaxThreads();
  Workspace& work = ws ? *ws : ThreadWorkspace();
  const size_t cc = static_cast<size_t>(c) * c;
  const size_t dz_size = AlignFloats(static_cast<size_t>(ch.size) * c), dw_size = AlignFloats(cc);
  float* base = work.Reserve(dz_size * threads + dw_size * ch.count + 8 * static_cast<size_t>(c));
  float* dw_part = base + dz_size * threads;
  float* kf = dw_part + dw_size * ch.count;  // BN backward coefficients: m, a, b, k (x2)
  std::vector<double> part(static_cast<size_t>(ch.count) * 3 * c), sums(3 * static_cast<size_t>(c));
  std::vector<double> dpart(static_cast<size_t>(ch.count) * 2 * c), dsums(2 * static_cast<size_t>(c));
  std::vector<double> mz(c), mx(c);

  float* g = g0;      // gradient of x[i + 1]
  float* gprev = g1;  // gradient of x[i]
  for (int i = depth - 1; i >= 0; --i) {
    const BnRef& b1 = p.bn1[i];
    const BnRef& id = p.id[i];
    const Conv1x1Ref& cv = p.conv[i];
    for (int j = 0; j < c; ++j) mz[j] = b1.save_mean[j], mx[j] = id.save_mean[j];
    // Reduction: sum g, sum g * (z - mean z), sum g * (x - mean x); at the top, g = relu'(dout).
    std::fill(part.begin(), part.end(), 0.0);
    const bool top = i == depth - 1;
    ForChunks(ch, [&](int64_t k, int64_t r0, int rows) {
      const int64_t o = r0 * c;
      GradSumsChunk(rows, c, top ? x[depth] + o : nullptr, top ? dout + o : nullptr, g + o, z[i] + o, mz.data(), x[i] + o, mx.data(),
                    part.data() + k * 3 * c);
    });
    SumPartials(part, ch.count, 3 * c, 3 * c, sums.data());
    float *m1 = kf, *a1 = kf + c, *bb1 = kf + 2 * c, *k1 = kf + 3 * c;
    float *mi = kf + 4 * c, *ai = kf + 5 * c, *bbi = kf + 6 * c, *ki = kf + 7 * c;
    FinishBnBackward(b1, c, p.rows, sums.data(), sums.data() + c, m1, a1, bb1, k1);
    FinishBnBackward(id, c, p.rows, sums.data(), sums.data() + 2 * c, mi, ai, bbi, ki);

    // Per chunk: dz (bn1 backward, in cache), db and dw partials, gprev = dz w + id's dx;
    // d's gradient dd accumulates g for i > 0; at i == 0 the dense BN's sums over dd.
    std::fill(part.begin(), part.end(), 0.0);
    std::fill(dpart.begin(), dpart.end(), 0.0);
    std::vector<double> dmean(c);
    for (int j = 0; j < c; ++j) dmean[j] = p.dense.save_mean[j];
    ForChunks(ch, [&](int64_t k, int64_t r0, int rows) {
      const int64_t o = r0 * c;
      float* dz = base + dz_size * ThreadIndex();
      BnBackwardChunk(rows, c, g + o, z[i] + o, m1, a1, bb1, k1, dz, part.data() + k * 3 * c);
      sgemm(true, false, c, c, rows, dz, c, x[i] + o, c, dw_part + dw_size * k, c, false);
      sgemm(false, false, rows, c, c, dz, c, cv.w, c, gprev + o, c, false);
      BnBackwardAddChunk(rows, c, g + o, x[i] + o, mi, ai, bbi, ki, gprev + o);
      if (i > 0) AddGradChunk(rows, c, g + o, i == depth - 1, dd + o);
      if (i == 0 && depth > 1) GradSumsChunk(rows, c, nullptr, nullptr, dd + o, x[0] + o, dmean.data(), nullptr, nullptr, dpart.data() + k * 2 * c);
    });
    SumPartials(part, ch.count, 3 * c, c, sums.data());
    for (int j = 0; j < c; ++j) cv.db[j] = static_cast<float>(sums[j]);
    for (size_t e = 0; e < cc; ++e) {
      float v = dw_part[e];
      for (int64_t k = 1; k < ch.count; ++k) v += dw_part[dw_size * k + e];
      cv.dw[e] = v;
    }
    std::swap(g, gprev);
  }
  // g = gradient of x[0] through the chain. Add the dense BN's dx (input x[0], upstream dd)
  // and take n3's sums over the total.
  float *md = kf, *ad = kf + c, *bd = kf + 2 * c, *kd = kf + 3 * c;
  if (depth > 1) {
    SumPartials(dpart, ch.count, 2 * c, 2 * c, dsums.data());
    FinishBnBackward(p.dense, c, p.rows, dsums.data(), dsums.data() + c, md, ad, bd, kd);
  } else {
    for (int j = 0; j < c; ++j) p.dense.dgamma[j] = p.dense.dbeta[j] = 0.0f;  // d is never used
  }
  for (int j = 0; j < c; ++j) mz[j] = p.n3.save_mean[j];
  std::fill(part.begin(), part.end(), 0.0);
  ForChunks(ch, [&](int64_t k, int64_t r0, int rows) {
    const int64_t o = r0 * c;
    if (depth > 1) BnBackwardAddChunk(rows, c, dd + o, x[0] + o, md, ad, bd, kd, g + o);
    GradSumsChunk(rows, c, nullptr, nullptr, g + o, c3out + o, mz.data(), nullptr, nullptr, part.data() + k * 3 * c);
  });
  SumPartials(part, ch.count, 3 * c, 3 * c, sums.data());
  float *m3 = kf + 4 * c, *a3 = kf + 5 * c, *b3 = kf + 6 * c, *k3 = kf + 7 * c;
  FinishBnBackward(p.n3, c, p.rows, sums.data(), sums.data() + c, m3, a3, b3, k3);
  std::fill(part.begin(), part.end(), 0.0);
  ForChunks(ch, [&](int64_t k, int64_t r0, int rows) {
    const int64_t o = r0 * c;
    BnBackwardChunk(rows, c, g + o, c3out + o, m3, a3, b3, k3, dc3out + o, part.data() + k * 3 * c);
  });
  if (c3_bias_grad) {
    SumPartials(part, ch.count, 3 * c, c, sums.data());
    for (int j = 0; j < c; ++j) c3_bias_grad[j] = static_cast<float>(sums[j]);
  }
}

}  // namespace personcls::ops
