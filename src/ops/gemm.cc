#include "ops/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "ops/ops_common.h"

namespace personcls::ops {

namespace internal {
// gemm_avx2.cc (compiled with -mavx2 -mfma).
void GemmMicro6x16Avx2(int kc, int mr, const float* a, long rs, long cs, const float* b, float* c, long ldc, bool accumulate);
}  // namespace internal

namespace {

constexpr int kMr = kGemmMr, kNr = kGemmNr, kKc = kGemmKc;
constexpr int kNc = 512;  // columns of B packed at once (multiple of kNr)

static_assert(kNc % kNr == 0);

using MicroKernel = void (*)(int kc, int mr, const float* a, long rs, long cs, const float* b, float* c, long ldc, bool accumulate);

// Portable micro-kernel with the same contract as GemmMicro6x16Avx2. Accumulates each
// element over k in increasing order (separate multiply and add: -ffp-contract=off).
void GemmMicro6x16Scalar(int kc, int mr, const float* a, long rs, long cs, const float* b, float* c, long ldc, bool accumulate) {
  float acc[kMr][kNr] = {};
  for (int k = 0; k < kc; ++k) {
    const float* bk = b + k * kNr;
    for (int i = 0; i < kMr; ++i) {
      const float ai = a[std::min(i, mr - 1) * rs + k * cs];
      for (int j = 0; j < kNr; ++j) acc[i][j] += ai * bk[j];
    }
  }
  for (int i = 0; i < kMr; ++i)
    for (int j = 0; j < kNr; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

std::atomic<int> g_kernel{static_cast<int>(GemmKernel::kAuto)};

MicroKernel ResolveKernel() {
  const auto k = static_cast<GemmKernel>(g_kernel.load(std::memory_order_relaxed));
  if (k == GemmKernel::kScalar) return &GemmMicro6x16Scalar;
  if (k == GemmKernel::kAvx2 || CpuSupportsAvx2Fma()) return &internal::GemmMicro6x16Avx2;
  return &GemmMicro6x16Scalar;
}

// Packs k-range [k0, k0+kc) x columns [j0, j0+nc) of op(B) into micro-panels of kNr
// columns: panel p holds, for each k, the kNr values B(k0 + k, j0 + p*kNr + j); columns
// past nc are 0.
void PackB(bool trans, const float* b, int ldb, int k0, int kc, int j0, int nc, float* dst) {
  for (int p = 0; p < nc; p += kNr) {
    const int nr = std::min(kNr, nc - p);
    float* d = dst + static_cast<size_t>(p) * kc;
    if (!trans) {
      for (int k = 0; k < kc; ++k) {
        const float* src = b + static_cast<size_t>(k0 + k) * ldb + j0 + p;
        float* dk = d + k * kNr;
        if (nr == kNr) {
          std::memcpy(dk, src, sizeof(float) * kNr);
        } else {
          int j = 0;
          for (; j < nr; ++j) dk[j] = src[j];
          for (; j < kNr; ++j) dk[j] = 0.0f;
        }
      }
    } else {
      for (int j = 0; j < nr; ++j) {
        const float* src = b + static_cast<size_t>(j0 + p + j) * ldb + k0;
        for (int k = 0; k < kc; ++k) d[k * kNr + j] = src[k];
      }
      for (int j = nr; j < kNr; ++j)
        for (int k = 0; k < kc; ++k) d[k * kNr + j] = 0.0f;
    }
  }
}

}  // namespace

bool CpuSupportsAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

void SetGemmKernel(GemmKernel kernel) {
  PCLS_OPS_CHECK(kernel != GemmKernel::kAvx2 || CpuSupportsAvx2Fma(), "this CPU has no AVX2/FMA");
  g_kernel.store(static_cast<int>(kernel), std::memory_order_relaxed);
}

GemmKernel ActiveGemmKernel() { return ResolveKernel() == &GemmMicro6x16Scalar ? GemmKernel::kScalar : GemmKernel::kAvx2; }

const char* GemmKernelName(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::kAuto: return "auto";
    case GemmKernel::kScalar: return "scalar";
    case GemmKernel::kAvx2: return "avx2";
  }
  return "?";
}

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, bool accumulate) {
  PCLS_OPS_CHECK(m >= 0 && n >= 0 && k >= 0, "negative size");
  PCLS_OPS_CHECK(ldc >= n, "ldc < n");
  PCLS_OPS_CHECK(lda >= (trans_a ? m : k) && ldb >= (trans_b ? k : n), "leading dimension too small");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int i = 0; i < m; ++i) std::memset(c + static_cast<size_t>(i) * ldc, 0, sizeof(float) * n);
    return;
  }
  const MicroKernel kernel = ResolveKernel();
  // A is read in place with strides (rs: next row, cs: next k): its rows are few and
  // short here (im2col chunks that fit L2), so only B is packed.
  const long rs = trans_a ? 1 : lda, cs = trans_a ? lda : 1;
  thread_local Workspace pack;  // separate from ThreadWorkspace(): callers use that one
  float* bp = pack.Reserve(static_cast<size_t>(std::min(k, kKc)) * ((std::min(n, kNc) + kNr - 1) / kNr * kNr));
  alignas(64) float tmp[kMr * kNr];

  for (int jc = 0; jc < n; jc += kNc) {
    const int nc = std::min(kNc, n - jc);
    for (int pc = 0; pc < k; pc += kKc) {
      const int kc = std::min(kKc, k - pc);
      const bool acc = accumulate || pc > 0;
      PackB(trans_b, b, ldb, pc, kc, jc, nc, bp);
      for (int ir = 0; ir < m; ir += kMr) {
        const int mr = std::min(kMr, m - ir);
        const float* apanel = a + ir * rs + pc * cs;
        for (int jr = 0; jr < nc; jr += kNr) {
          const int nr = std::min(kNr, nc - jr);
          const float* bpanel = bp + static_cast<size_t>(jr) * kc;
          float* cc = c + static_cast<size_t>(ir) * ldc + jc + jr;
          if (mr == kMr && nr == kNr) {
            kernel(kc, mr, apanel, rs, cs, bpanel, cc, ldc, acc);
          } else {
            kernel(kc, mr, apanel, rs, cs, bpanel, tmp, kNr, false);
            for (int i = 0; i < mr; ++i)
              for (int j = 0; j < nr; ++j) {
                float& dst = cc[static_cast<size_t>(i) * ldc + j];
                dst = acc ? dst + tmp[i * kNr + j] : tmp[i * kNr + j];
              }
          }
        }
      }
    }
  }
}

}  // namespace personcls::ops
