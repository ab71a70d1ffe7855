// Single-precision matrix multiply used by conv2d and linear: a cache-blocked SGEMM
// (k blocks of kGemmKc, column blocks of 512) with a 6x16 register-tiled micro-kernel
// (AVX2+FMA when the CPU has it, portable scalar C++ otherwise; chosen at run time). B is
// packed into 16-column panels per block; A is read in place through its strides, which
// is cheaper than packing for the operands here (im2col chunks sized to stay in L2).
//
//   C[m x n] = op(A)[m x k] * op(B)[k x n]          (accumulate == false)
//   C[m x n] += op(A)[m x k] * op(B)[k x n]         (accumulate == true)
//
// Row-major with leading dimensions: op(A) = A when !trans_a (A stored m x k, lda >= k) and
// A^T when trans_a (A stored k x m, lda >= m); likewise op(B) = B (k x n, ldb >= n) or B^T
// (B stored n x k, ldb >= k). C must not alias A or B.
//
// sgemm is SINGLE-threaded; callers split independent blocks of rows over threads.
// Determinism: each C element is accumulated over k in increasing order, in blocks of
// kGemmKc, whatever m, n and the position of the element; so splitting the rows of C over
// threads does not change any result.
#pragma once

namespace personcls::ops {

constexpr int kGemmMr = 6;    // micro-tile rows
constexpr int kGemmNr = 16;   // micro-tile columns
constexpr int kGemmKc = 256;  // k block

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, bool accumulate);

enum class GemmKernel { kAuto, kScalar, kAvx2 };

// True when the CPU (and OS) support AVX2 and FMA.
bool CpuSupportsAvx2Fma();
// Chooses the micro-kernel for all later sgemm calls (process-wide; for tests and
// benchmarks). kAuto = AVX2 when supported, else scalar. Throws std::invalid_argument for
// kAvx2 on a CPU without AVX2/FMA. Not to be called while ops run on other threads.
void SetGemmKernel(GemmKernel kernel);
// The kernel sgemm uses now: kScalar or kAvx2.
GemmKernel ActiveGemmKernel();
const char* GemmKernelName(GemmKernel kernel);

}  // namespace personcls::ops
