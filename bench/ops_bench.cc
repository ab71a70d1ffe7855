// Training-op benchmarks (src/ops): conv2d forward, backward (dx + dw + db) and both, on
// the convolution shapes of MobileNetV2-Rep-0.35 at 96x96 (DescribeArch("mbv2-rep-0.35"))
// at batch 128, with 1 and 2 OpenMP threads; and the raw SGEMM. Reports GFLOP/s
// (1 multiply-add = 2 FLOP; backward = 2x the forward FLOPs, 1x for the stem, which needs
// no dx).
//
//   ./build/bench/personcls_bench --benchmark_filter='BM_(Conv2d|Sgemm)'
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "ops/conv2d.h"
#include "ops/gemm.h"

namespace personcls::ops {
namespace {

constexpr int kBatch = 128;

struct ConvLayer {
  const char* name;
  int size, cin, cout, kernel, stride;
  bool need_dx;
};

// mbv2-rep-0.35, 96x96 input: stem 3->16 s2; layer1.0 16->16 at 48; layer2.0 16->16 s2
// 48->24; layer2.1 16->16 at 24; layer3.0 16->32 s2 24->12; layer3.1-2 32->32 at 12. The
// RepConv1x1 blocks' 1x1 branches (C->C at the block's output size) in train form.
const ConvLayer kLayers[] = {
    {"stem_96x96x3_16_k3s2", 96, 3, 16, 3, 2, false}, {"l1.0_48x48x16_16_k3s1", 48, 16, 16, 3, 1, true},
    {"l2.0_48x48x16_16_k3s2", 48, 16, 16, 3, 2, true}, {"l2.1_24x24x16_16_k3s1", 24, 16, 16, 3, 1, true},
    {"l3.0_24x24x16_32_k3s2", 24, 16, 32, 3, 2, true}, {"l3.1_12x12x32_32_k3s1", 12, 32, 32, 3, 1, true},
    {"pw_48x48x16_16_k1", 48, 16, 16, 1, 1, true},     {"pw_24x24x16_16_k1", 24, 16, 16, 1, 1, true},
    {"pw_12x12x32_32_k1", 12, 32, 32, 1, 1, true},
};

std::vector<float> Random(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

Conv2dShape ShapeOf(const ConvLayer& l) {
  return l.kernel == 3 ? Conv3x3(kBatch, l.size, l.size, l.cin, l.cout, l.stride) : Conv1x1(kBatch, l.size, l.size, l.cin, l.cout);
}

enum Pass { kForward = 0, kBackward = 1, kBoth = 2 };

// state.range(0): layer, range(1): pass, range(2): threads.
void BM_Conv2d(benchmark::State& state) {
  const ConvLayer& l = kLayers[state.range(0)];
  const auto pass = static_cast<Pass>(state.range(1));
  const int threads = static_cast<int>(state.range(2));
  const Conv2dShape s = ShapeOf(l);
  const std::vector<float> x = Random(s.input_numel(), 1), w = Random(s.weight_numel(), 2), b = Random(s.cout, 3);
  const std::vector<float> dy = Random(s.output_numel(), 4);
  std::vector<float> y(s.output_numel()), dx(l.need_dx ? s.input_numel() : 0), dw(s.weight_numel()), db(s.cout);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  Workspace ws;
  for (auto _ : state) {
    if (pass != kBackward) conv2d_forward(s, x.data(), w.data(), b.data(), y.data(), &ws);
    if (pass != kForward)
      conv2d_backward(s, x.data(), w.data(), dy.data(), l.need_dx ? dx.data() : nullptr, dw.data(), db.data(), GradMode::kOverwrite, &ws);
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dw.data());
    benchmark::ClobberMemory();
  }
  omp_set_num_threads(saved);
  const double fwd = 2.0 * s.macs(), bwd = fwd * (l.need_dx ? 2.0 : 1.0);
  const double flops = (pass != kBackward ? fwd : 0.0) + (pass != kForward ? bwd : 0.0);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  static const char* kPass[] = {"fwd", "bwd", "fwd+bwd"};
  state.SetLabel(std::string(l.name) + " " + kPass[pass] + " " + std::to_string(threads) + "T " + GemmKernelName(ActiveGemmKernel()));
}

void ConvArgs(benchmark::internal::Benchmark* b) {
  for (int layer = 0; layer < static_cast<int>(std::size(kLayers)); ++layer)
    for (int pass : {kForward, kBackward, kBoth})
      for (int threads : {1, 2}) b->Args({layer, pass, threads});
}
BENCHMARK(BM_Conv2d)->Apply(ConvArgs)->Unit(benchmark::kMillisecond)->UseRealTime();

// Single-threaded SGEMM, C[m x n] = A[m x k] * B[k x n]: range(0..2) = m, n, k.
void BM_Sgemm(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)), k = static_cast<int>(state.range(2));
  const std::vector<float> a = Random(int64_t{m} * k, 5), b = Random(int64_t{k} * n, 6);
  std::vector<float> c(static_cast<size_t>(m) * n);
  for (auto _ : state) {
    sgemm(false, false, m, n, k, a.data(), k, b.data(), n, c.data(), n, false);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * m * n * k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(GemmKernelName(ActiveGemmKernel()));
}
BENCHMARK(BM_Sgemm)->Args({2304, 16, 144})->Args({1152, 32, 288})->Args({512, 512, 512})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace personcls::ops
