// personcls_peak: the machine's clock and the peak throughput of the instructions the
// convolution kernels are built on, measured (bench/RESULTS.md, "Peaks").
//
//   build/bench/personcls_peak            (a report)
//   build/bench/personcls_peak --gmacs    (just "INT8_PEAK FLOAT_PEAK" in GMAC/s, for
//                                          personcls_conv_efficiency)
//
// Clock: a chain of dependent 64-bit adds (one per cycle on every x86 core). Throughput:
// 12 independent chains of vpmaddwd (int8 kernels: 8 lanes x 2 multiply-accumulates),
// vpmaddubsw and vfmadd231ps (float kernels: 8 lanes). Each figure is the best of 200
// short runs of wall time, so other processes on the machine only hide in the worse runs.
// Compiled for AVX2+FMA; run it on such a CPU only.
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

__attribute__((noinline)) int64_t AddChain(int64_t n) {
  int64_t x = 0;
  for (int64_t i = 0; i < n; ++i)
    asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
  return x;
}

// 12 independent dependency chains of one instruction, in registers (inline asm, so the
// compiler cannot spill them), n times over.
#define PCLS_CHAINS(insn)                                                                                          \
  asm volatile(insn " %12, %0, %0\n\t" insn " %12, %1, %1\n\t" insn " %12, %2, %2\n\t" insn " %12, %3, %3\n\t"     \
               insn " %12, %4, %4\n\t" insn " %12, %5, %5\n\t" insn " %12, %6, %6\n\t" insn " %12, %7, %7\n\t"     \
               insn " %12, %8, %8\n\t" insn " %12, %9, %9\n\t" insn " %12, %10, %10\n\t" insn " %12, %11, %11"       \
               : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), \
                 "+x"(a10), "+x"(a11)                                                                          \
               : "x"(b))

enum class Op { kMaddwd, kMaddubsw, kFma };

template <Op kOp>
__attribute__((noinline)) __m256i Chains(int64_t n) {
  const __m256i b = _mm256_set1_epi16(5);
  __m256i a0 = _mm256_set1_epi32(0), a1 = _mm256_set1_epi32(1), a2 = _mm256_set1_epi32(2), a3 = _mm256_set1_epi32(3),
          a4 = _mm256_set1_epi32(4), a5 = _mm256_set1_epi32(5), a6 = _mm256_set1_epi32(6), a7 = _mm256_set1_epi32(7),
          a8 = _mm256_set1_epi32(8), a9 = _mm256_set1_epi32(9), a10 = _mm256_set1_epi32(10), a11 = _mm256_set1_epi32(11);
  for (int64_t k = 0; k < n; ++k) {
    if constexpr (kOp == Op::kMaddwd) PCLS_CHAINS("vpmaddwd");
    if constexpr (kOp == Op::kMaddubsw) PCLS_CHAINS("vpmaddubsw");
    if constexpr (kOp == Op::kFma) PCLS_CHAINS("vfmadd231ps");
  }
  __m256i s = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3)),
                               _mm256_xor_si256(_mm256_xor_si256(a4, a5), _mm256_xor_si256(a6, a7)));
  return _mm256_xor_si256(s, _mm256_xor_si256(_mm256_xor_si256(a8, a9), _mm256_xor_si256(a10, a11)));
}

template <typename F>
double Best(F f) {
  double best = 1e9;
  for (int t = 0; t < 200; ++t) {
    const double t0 = Now();
    f();
    const double dt = Now() - t0;
    if (dt < best) best = dt;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr int64_t kAdds = 250000, kIters = 40000;
  const double ghz = 8.0 * kAdds / Best([] { volatile int64_t r = AddChain(kAdds); (void)r; }) / 1e9;
  auto per_cycle = [&](double seconds) { return 12.0 * kIters / seconds / 1e9 / ghz; };
  const double maddwd = per_cycle(Best([] { volatile __m256i r = Chains<Op::kMaddwd>(kIters); (void)r; }));
  const double maddubsw = per_cycle(Best([] { volatile __m256i r = Chains<Op::kMaddubsw>(kIters); (void)r; }));
  const double fma = per_cycle(Best([] { volatile __m256i r = Chains<Op::kFma>(kIters); (void)r; }));
  if (argc > 1 && std::string(argv[1]) == "--gmacs") {
    std::printf("%.1f %.1f\n", 16 * maddwd * ghz, 8 * fma * ghz);
    return 0;
  }
  std::printf("clock: %.2f GHz (dependent adds, best of 200)\n", ghz);
  std::printf("vpmaddwd ymm: %.2f per cycle -> int8 peak %.1f MAC/cycle = %.1f GMAC/s\n", maddwd, 16 * maddwd, 16 * maddwd * ghz);
  std::printf("vpmaddubsw ymm: %.2f per cycle\n", maddubsw);
  std::printf("vfmadd231ps ymm: %.2f per cycle -> float32 peak %.1f MAC/cycle (%.1f FLOP/cycle) = %.1f GMAC/s\n", fma, 8 * fma, 16 * fma,
              8 * fma * ghz);
  return 0;
}
