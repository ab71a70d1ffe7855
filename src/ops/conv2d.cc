#include "ops/conv2d.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/gemm.h"

namespace personcls::ops {

namespace {

void Validate(const Conv2dShape& s) {
  PCLS_OPS_CHECK(s.n >= 1 && s.h >= 1 && s.w >= 1 && s.cin >= 1 && s.cout >= 1, "sizes must be >= 1");
  PCLS_OPS_CHECK(s.kernel >= 1 && s.stride >= 1 && s.pad >= 0, "kernel and stride must be >= 1, pad >= 0");
  PCLS_OPS_CHECK(s.h + 2 * s.pad >= s.kernel && s.w + 2 * s.pad >= s.kernel, "kernel larger than the padded input");
}

// Copies / zeroes n floats. The im2col pieces are short (Cin or 3*Cin floats), where a
// library call costs more than the copy.
inline void CopyFloats(float* dst, const float* src, int64_t n) {
  if (n >= 64) {
    std::memcpy(dst, src, sizeof(float) * n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}
inline void ZeroFloats(float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;
}

bool IsDirect(const Conv2dShape& s) { return s.kernel == 1 && s.stride == 1 && s.pad == 0; }

// Output pixels (or input pixels, for dx) per im2col chunk: about 64K floats of columns
// (fits L2), a multiple of the micro-tile height. Depends only on the shape and Tuning.
int ChunkRows(int row_len) {
  const int forced = GetTuning().conv_rows_per_chunk;
  if (forced > 0) return forced;
  int rows = 65536 / std::max(1, row_len);
  rows = std::clamp(rows, 4 * kGemmMr, 2048);
  return rows / kGemmMr * kGemmMr;
}

// Walks the pixels (n, y, x) of an [N, H, W] grid in order from a flat index, without a
// division per pixel.
struct PixelWalk {
  int64_t n;
  int y, x;
  int h, w;
  PixelWalk(int64_t index, int h_, int w_) : h(h_), w(w_) {
    n = index / (int64_t{h} * w);
    const int rem = static_cast<int>(index - n * h * w);
    y = rem / w;
    x = rem % w;
  }
  void Next() {
    if (++x == w) {
      x = 0;
      if (++y == h) {
        y = 0;
        ++n;
      }
    }
  }
};

// cols[r, (ky*K + kx)*cin + ci] = x[n, oy*stride - pad + ky, ox*stride - pad + kx, ci] (0 outside)
// for output pixels m = m0 + r, r < rows, m = (n*OH + oy)*OW + ox.
void Im2col(const Conv2dShape& s, int64_t m0, int rows, const float* x, float* cols) {
  const int k = s.kernel, cin = s.cin;
  const int64_t row_len = int64_t{k} * k * cin;
  PixelWalk p(m0, s.out_h(), s.out_w());
  for (int r = 0; r < rows; ++r, p.Next()) {
    const int iy0 = p.y * s.stride - s.pad, ix0 = p.x * s.stride - s.pad;
    const int kx_lo = std::max(0, -ix0), kx_hi = std::min(k, s.w - ix0);
    float* dst = cols + r * row_len;
    for (int ky = 0; ky < k; ++ky) {
      float* d = dst + int64_t{ky} * k * cin;
      const int iy = iy0 + ky;
      if (iy < 0 || iy >= s.h || kx_lo >= kx_hi) {
        ZeroFloats(d, k * cin);
        continue;
      }
      if (kx_lo > 0) ZeroFloats(d, kx_lo * cin);
      CopyFloats(d + int64_t{kx_lo} * cin, x + ((p.n * s.h + iy) * s.w + ix0 + kx_lo) * cin, (kx_hi - kx_lo) * cin);
      if (kx_hi < k) ZeroFloats(d + int64_t{kx_hi} * cin, (k - kx_hi) * cin);
    }
  }
}

// The transposed gather for dx at stride 1: for input pixels q = q0 + r
// (q = (n*H + iy)*W + ix), cols[r, (ky*K + kx)*cout + co] = dy[n, oy, ox, co] with
// oy = iy + pad - ky, ox = ix + pad - kx, or 0 outside the output.
void GatherDyStride1(const Conv2dShape& s, int64_t q0, int rows, const float* dy, float* cols) {
  const int k = s.kernel, cout = s.cout, oh = s.out_h(), ow = s.out_w();
  const int64_t row_len = int64_t{k} * k * cout;
  PixelWalk p(q0, s.h, s.w);
  for (int r = 0; r < rows; ++r, p.Next()) {
    // Taps kx in [kx_lo, kx_hi) land inside the output row; they read consecutive output
    // pixels in decreasing ox, so each is its own copy.
    const int kx_lo = std::max(0, p.x + s.pad - (ow - 1)), kx_hi = std::min(k, p.x + s.pad + 1);
    float* dst = cols + r * row_len;
    for (int ky = 0; ky < k; ++ky) {
      float* d = dst + int64_t{ky} * k * cout;
      const int oy = p.y + s.pad - ky;
      if (oy < 0 || oy >= oh || kx_lo >= kx_hi) {
        ZeroFloats(d, int64_t{k} * cout);
        continue;
      }
      const float* src = dy + ((p.n * oh + oy) * ow + p.x + s.pad) * cout;  // ox = p.x + pad - kx
      for (int kx = 0; kx < k; ++kx) {
        if (kx >= kx_lo && kx < kx_hi)
          CopyFloats(d + int64_t{kx} * cout, src - int64_t{kx} * cout, cout);
        else
          ZeroFloats(d + int64_t{kx} * cout, cout);
      }
    }
  }
}

// dx for stride > 1, by phases: the input pixels with iy % stride == py and ix % stride ==
// px are reached by the same taps (ky, kx) only, those with (py + pad - ky) % stride == 0
// and likewise for kx. So each phase gathers just its taps (no multiplications by the
// zeros of the strided gather) and multiplies by the matching rows of w2; the result goes
// through a per-thread buffer to the phase's scattered dx rows.
void BackwardDxStrided(const Conv2dShape& s, const float* w, const float* dy, float* dx, bool accumulate, Workspace& work) {
  const int k = s.kernel, st = s.stride, cin = s.cin, cout = s.cout, oh = s.out_h(), ow = s.out_w();
  auto mod = [st](int v) { return ((v % st) + st) % st; };
  struct Phase {
    int py, px, hy, wx;        // phase offset; pixels per column and row of the phase
    int64_t count;             // pixels in the phase (all images)
    std::vector<int> taps;     // ky * K + kx
    size_t w2_offset;          // its w2 in the workspace: [taps * Cout, Cin]
  };
  std::vector<Phase> phases;
  size_t w2_total = 0;
  int max_kp = 1;
  for (int py = 0; py < std::min(st, s.h); ++py)
    for (int px = 0; px < std::min(st, s.w); ++px) {
      Phase p{py, px, (s.h - py + st - 1) / st, (s.w - px + st - 1) / st, 0, {}, w2_total};
      p.count = int64_t{s.n} * p.hy * p.wx;
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx)
          if (mod(py + s.pad - ky) == 0 && mod(px + s.pad - kx) == 0) p.taps.push_back(ky * k + kx);
      w2_total += AlignFloats(p.taps.size() * cout * cin);
      max_kp = std::max(max_kp, static_cast<int>(p.taps.size()) * cout);
      phases.push_back(std::move(p));
    }
  const int chunk = ChunkRows(max_kp);
  struct Item {
    int phase;
    int64_t q0;
    int rows;
  };
  std::vector<Item> items;
  for (int i = 0; i < static_cast<int>(phases.size()); ++i)
    for (int64_t q0 = 0; q0 < phases[i].count; q0 += chunk) items.push_back({i, q0, static_cast<int>(std::min<int64_t>(chunk, phases[i].count - q0))});

  const size_t col_size = AlignFloats(size_t(chunk) * max_kp), tmp_size = AlignFloats(size_t(chunk) * cin);
  float* base = work.Reserve(w2_total + (col_size + tmp_size) * MaxThreads());
  for (const Phase& p : phases)
    for (size_t t = 0; t < p.taps.size(); ++t)
      for (int co = 0; co < cout; ++co)
        CopyFloats(base + p.w2_offset + (t * cout + co) * cin, w + (size_t(co) * k * k + p.taps[t]) * cin, cin);

  const int64_t num_items = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(dynamic, 1) if (num_items > 1)
  for (int64_t it = 0; it < num_items; ++it) {
    const Item& item = items[it];
    const Phase& p = phases[item.phase];
    const int kp = static_cast<int>(p.taps.size()) * cout;
    float* cols = base + w2_total + (col_size + tmp_size) * ThreadIndex();
    float* tmp = cols + col_size;
    // The chunk's pixels walk the phase grid [N, hy, wx]: iy = py + stride*y, ix = px + stride*x.
    if (kp > 0) {
      PixelWalk pw(item.q0, p.hy, p.wx);
      for (int r = 0; r < item.rows; ++r, pw.Next()) {
        const int64_t b = pw.n;
        const int iy = p.py + st * pw.y, ix = p.px + st * pw.x;
        float* d = cols + int64_t{r} * kp;
        for (size_t t = 0; t < p.taps.size(); ++t, d += cout) {
          const int ky = p.taps[t] / k, kx = p.taps[t] % k;
          const int oy = (iy + s.pad - ky) / st, ox = (ix + s.pad - kx) / st;  // exact divisions
          if (iy + s.pad - ky >= 0 && ix + s.pad - kx >= 0 && oy < oh && ox < ow)
            CopyFloats(d, dy + ((b * oh + oy) * ow + ox) * cout, cout);
          else
            ZeroFloats(d, cout);
        }
      }
      sgemm(false, false, item.rows, cin, kp, cols, kp, base + p.w2_offset, cin, tmp, cin, false);
    } else {
      ZeroFloats(tmp, item.rows * cin);  // no tap reaches these pixels
    }
    PixelWalk pw(item.q0, p.hy, p.wx);
    for (int r = 0; r < item.rows; ++r, pw.Next()) {
      const int iy = p.py + st * pw.y, ix = p.px + st * pw.x;
      float* dst = dx + ((pw.n * s.h + iy) * s.w + ix) * cin;
      const float* src = tmp + int64_t{r} * cin;
      if (accumulate)
        for (int c = 0; c < cin; ++c) dst[c] += src[c];
      else
        CopyFloats(dst, src, cin);
    }
  }
}

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y, Workspace* ws) {
  Validate(s);
  PCLS_OPS_CHECK(x && w && y, "null pointer");
  const int cout = s.cout;
  const int kdim = s.kernel * s.kernel * s.cin;
  const int64_t m = int64_t{s.n} * s.out_h() * s.out_w();
  const bool direct = IsDirect(s);
  const int chunk = ChunkRows(kdim);
  const int64_t chunks = (m + chunk - 1) / chunk;
  const int threads = MaxThreads();

  Workspace& work = ws ? *ws : ThreadWorkspace();
  const size_t wt_size = AlignFloats(size_t(kdim) * cout);
  const size_t col_size = direct ? 0 : AlignFloats(size_t(chunk) * kdim);
  float* base = work.Reserve(wt_size + col_size * threads);
  // wt[kk, co] = w[co, kk]: B of the GEMM, [K*K*Cin, Cout].
  float* wt = base;
  for (int co = 0; co < cout; ++co)
    for (int kk = 0; kk < kdim; ++kk) wt[size_t(kk) * cout + co] = w[size_t(co) * kdim + kk];

#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t m0 = c * chunk;
    const int rows = static_cast<int>(std::min<int64_t>(chunk, m - m0));
    float* yc = y + m0 * cout;
    if (bias)
      for (int r = 0; r < rows; ++r) CopyFloats(yc + int64_t{r} * cout, bias, cout);
    const float* a = x + m0 * s.cin;
    if (!direct) {
      float* cols = base + wt_size + col_size * ThreadIndex();
      Im2col(s, m0, rows, x, cols);
      a = cols;
    }
    sgemm(false, false, rows, cout, kdim, a, kdim, wt, cout, yc, cout, bias != nullptr);
  }
}

void conv2d_backward(const Conv2dShape& s, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db, GradMode mode,
                     Workspace* ws) {
  Validate(s);
  PCLS_OPS_CHECK(dy, "null dy");
  PCLS_OPS_CHECK(!dx || w, "dx needs w");
  PCLS_OPS_CHECK(!dw || x, "dw needs x");
  const bool accumulate = mode == GradMode::kAccumulate;
  const int k = s.kernel, cin = s.cin, cout = s.cout;
  const int kdim = k * k * cin;    // im2col row of x
  const int kdim_t = k * k * cout;  // gathered row of dy
  const int64_t m = int64_t{s.n} * s.out_h() * s.out_w();  // output pixels
  const int64_t q = int64_t{s.n} * s.h * s.w;              // input pixels
  const bool direct = IsDirect(s);
  const int threads = MaxThreads();
  Workspace& work = ws ? *ws : ThreadWorkspace();

  // ---- dx (stride 1): gather(dy) * w2, w2[(ky*K + kx)*Cout + co, ci] = w[co, ky, kx, ci] ----
  if (dx && s.stride > 1) {
    BackwardDxStrided(s, w, dy, dx, accumulate, work);
  } else if (dx) {
    const int chunk = ChunkRows(kdim_t);
    const int64_t chunks = (q + chunk - 1) / chunk;
    const size_t w2_size = direct ? 0 : AlignFloats(size_t(kdim_t) * cin);
    const size_t col_size = direct ? 0 : AlignFloats(size_t(chunk) * kdim_t);
    float* base = work.Reserve(w2_size + col_size * threads + 16);
    float* w2 = base;
    if (!direct)
      for (int co = 0; co < cout; ++co)
        for (int t = 0; t < k * k; ++t)
          std::memcpy(w2 + (size_t(t) * cout + co) * cin, w + (size_t(co) * k * k + t) * cin, sizeof(float) * cin);
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t q0 = c * chunk;
      const int rows = static_cast<int>(std::min<int64_t>(chunk, q - q0));
      if (direct) {
        sgemm(false, false, rows, cin, cout, dy + q0 * cout, cout, w, cin, dx + q0 * cin, cin, accumulate);
      } else {
        float* cols = base + w2_size + col_size * ThreadIndex();
        GatherDyStride1(s, q0, rows, dy, cols);
        sgemm(false, false, rows, cin, kdim_t, cols, kdim_t, w2, cin, dx + q0 * cin, cin, accumulate);
      }
    }
  }

  // ---- dw^T[kk, co] = sum_m cols[m, kk] * dy[m, co]; db[co] = sum_m dy[m, co] ----
  if (dw || db) {
    const Tuning& t = GetTuning();
    const int64_t per = std::max<int64_t>(1, t.reduce_rows_per_slot);
    const int slots = static_cast<int>(std::clamp<int64_t>((m + per - 1) / per, 1, std::max(1, t.max_slots)));
    const int chunk = ChunkRows(kdim);
    const size_t slot_size = dw ? AlignFloats(size_t(kdim) * cout) : 0;
    const size_t col_size = (dw && !direct) ? AlignFloats(size_t(chunk) * kdim) : 0;
    float* base = work.Reserve(slot_size * slots + col_size * threads + 16);
    std::vector<double> db_part(db ? size_t(slots) * cout : 0, 0.0);
#pragma omp parallel for schedule(dynamic, 1) if (slots > 1)
    for (int sl = 0; sl < slots; ++sl) {
      const int64_t r0 = m * sl / slots, r1 = m * (sl + 1) / slots;
      if (dw) {
        float* part = base + slot_size * sl;
        float* cols = base + slot_size * slots + col_size * ThreadIndex();
        if (r0 == r1) std::memset(part, 0, sizeof(float) * kdim * cout);
        for (int64_t m0 = r0; m0 < r1; m0 += chunk) {
          const int rows = static_cast<int>(std::min<int64_t>(chunk, r1 - m0));
          const float* a = x + m0 * cin;
          if (!direct) {
            Im2col(s, m0, rows, x, cols);
            a = cols;
          }
          sgemm(true, false, kdim, cout, rows, a, kdim, dy + m0 * cout, cout, part, cout, m0 != r0);
        }
      }
      if (db) {
        double* acc = db_part.data() + size_t(sl) * cout;
        for (int64_t r = r0; r < r1; ++r) {
          const float* row = dy + r * cout;
          for (int co = 0; co < cout; ++co) acc[co] += row[co];
        }
      }
    }
    if (dw) {
#pragma omp parallel for schedule(static) if (int64_t{cout} * kdim * slots >= GetTuning().parallel_min_elems)
      for (int co = 0; co < cout; ++co) {
        float* dst = dw + size_t(co) * kdim;
        for (int kk = 0; kk < kdim; ++kk) {
          float v = base[size_t(kk) * cout + co];
          for (int sl = 1; sl < slots; ++sl) v += base[slot_size * sl + size_t(kk) * cout + co];
          dst[kk] = accumulate ? dst[kk] + v : v;
        }
      }
    }
    if (db) {
      for (int co = 0; co < cout; ++co) {
        double v = 0.0;
        for (int sl = 0; sl < slots; ++sl) v += db_part[size_t(sl) * cout + co];
        db[co] = accumulate ? db[co] + static_cast<float>(v) : static_cast<float>(v);
      }
    }
  }
}

}  // namespace personcls::ops
