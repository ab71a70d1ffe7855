// The AVX2+FMA SGEMM micro-kernel. This file is compiled with -mavx2 -mfma (see the
// top-level CMakeLists.txt) and is only called after gemm.cc checked the CPU. It must stay
// free of standard-library templates: an AVX2 instantiation of a template that portable
// code also instantiates could be the copy the linker keeps for everyone.
#include <immintrin.h>

namespace personcls::ops::internal {

// c[6 x 16] (ldc) = (accumulate ? c : 0) + sum_k A(i, k) * b[k*16 + j], where
// A(i, k) = a[min(i, mr - 1) * rs + k * cs] (A read in place: rows past mr repeat the last
// valid row, and their results are the caller's to discard) and b is a packed B
// micro-panel (kc x 16), 32-byte aligned.
void GemmMicro6x16Avx2(int kc, int mr, const float* a, long rs, long cs, const float* b, float* c, long ldc, bool accumulate) {
  const float* a0 = a;
  const float* a1 = a + (mr > 1 ? 1 : 0) * rs;
  const float* a2 = a + (mr > 2 ? 2 : mr - 1) * rs;
  const float* a3 = a + (mr > 3 ? 3 : mr - 1) * rs;
  const float* a4 = a + (mr > 4 ? 4 : mr - 1) * rs;
  const float* a5 = a + (mr > 5 ? 5 : mr - 1) * rs;
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  long off = 0;
  for (int k = 0; k < kc; ++k, off += cs) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a0 + off);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a1 + off);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a2 + off);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a3 + off);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a4 + off);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a5 + off);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
    b += 16;
  }
  auto store = [&](float* row, __m256 lo, __m256 hi) {
    if (accumulate) {
      lo = _mm256_add_ps(_mm256_loadu_ps(row), lo);
      hi = _mm256_add_ps(_mm256_loadu_ps(row + 8), hi);
    }
    _mm256_storeu_ps(row, lo);
    _mm256_storeu_ps(row + 8, hi);
  };
  store(c + 0 * ldc, c00, c01);
  store(c + 1 * ldc, c10, c11);
  store(c + 2 * ldc, c20, c21);
  store(c + 3 * ldc, c30, c31);
  store(c + 4 * ldc, c40, c41);
  store(c + 5 * ldc, c50, c51);
}

}  // namespace personcls::ops::internal
