// personcls_conv_efficiency: the dense convolution kernels the fast factories pick (direct:
// s8_/f32_conv2d_avx2; Winograd F(2x2, 3x3) for 3x3 stride 1: *_conv2d_3x3s1_winograd_avx2)
// alone on the layer shapes of MobileNetV2-Rep and MLPerf VWW, as a share of the machine's
// peak, then the 3x3 depthwise kernels on MLPerf VWW's depthwise layers
// (bench/RESULTS.md, "Kernel efficiency").
//
//   build/bench/personcls_conv_efficiency $(build/bench/personcls_peak --gmacs)
//
// The two arguments are the int8 and float32 peaks in GMAC/s (without them the shares are
// left out). Each layer runs 1,000 times on one thread; the best wall time counts (the
// kernel with warm caches and no other process in the way), so the figure is the
// kernel's own efficiency, not the machine's load.
//
// For a profiler: PERSONCLS_CONV_ONLY=<text> times only the dense layers whose name
// contains <text> (and skips the depthwise table), PERSONCLS_CONV_RUNS=<n> runs each n
// times instead of 1,000, e.g. the int8 and float32 default stems under perf:
//   PERSONCLS_CONV_ONLY="default stem" PERSONCLS_CONV_RUNS=20000 perf record -e cpu-clock
//   build/bench/personcls_conv_efficiency GMAC/s counts the convolution's own
// multiply-accumulates (out pixels x Cout x 3 x 3 x Cin) whatever the algorithm, so the
// Winograd kernels, which multiply 2.25x less, can exceed 100 % of the peak.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "runtime/fast_kernels.h"
#include "square_conv.h"

using namespace personcls;

namespace {

struct Layer {
  const char* name;
  int size, in_c, out_c, k, stride;
};

const Layer kLayers[] = {
    {"default stem 96x96x3->16 s2", 96, 3, 16, 3, 2},  {"default 48x48x16->16", 48, 16, 16, 3, 1},
    {"default 24x24x16->16", 24, 16, 16, 3, 1},        {"default 12x12x32->32", 12, 32, 32, 3, 1},
    {"1.0 stem 96x96x3->32 s2", 96, 3, 32, 3, 2},      {"1.0 48x48x32->32", 48, 32, 32, 3, 1},
    {"1.0 24x24x48->48", 24, 48, 48, 3, 1},            {"1.0 12x12x64->64", 12, 64, 64, 3, 1},
    {"1.0 6x6x128->128", 6, 128, 128, 3, 1},           {"default 48x48x16->32 s2", 48, 16, 32, 3, 2},
    {"1.0 48x48x32->48 s2", 48, 32, 48, 3, 2},         {"VWW 1x1 48x48x8->16", 48, 8, 16, 1, 1},
    {"VWW 1x1 24x24x32->32", 24, 32, 32, 1, 1},        {"VWW 1x1 6x6x128->128", 6, 128, 128, 1, 1},
    {"VWW stem 96x96x3->8 s2", 96, 3, 8, 3, 2},        {"VWW 1x1 3x3x256->256", 3, 256, 256, 1, 1},
};

int Runs() {
  const char* runs = std::getenv("PERSONCLS_CONV_RUNS");
  return runs != nullptr && std::atoi(runs) > 0 ? std::atoi(runs) : 1000;
}

template <typename F>
double Best(F f) {
  double best = 1e9;
  for (int t = 0, runs = Runs(); t < runs; ++t) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (!CpuHasAvx2Fma()) {
    std::printf("CPU without AVX2/FMA: no fast kernels\n");
    return 1;
  }
  const double int8_peak = argc > 2 ? std::atof(argv[1]) : 0, float_peak = argc > 2 ? std::atof(argv[2]) : 0;
  std::printf("| layer | algorithm | MACs | int8 us | int8 GMAC/s | int8 %% of peak | float32 us | float32 GMAC/s | float32 %% of peak | int8 speedup |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::mt19937 rng(1);
  const char* only = std::getenv("PERSONCLS_CONV_ONLY");
  for (const Layer& l : kLayers) {
    if (only != nullptr && std::string(l.name).find(only) == std::string::npos) continue;
    const ConvGeometry g = bench::SquareConvGeometry(l.size, l.in_c, l.out_c, l.k, l.stride, /*same=*/true);
    const size_t in_n = size_t{1} * l.size * l.size * l.in_c, w_n = size_t{1} * l.out_c * l.k * l.k * l.in_c;
    const size_t out_n = size_t{1} * g.out_h * g.out_w * l.out_c;
    std::vector<int8_t> in(in_n), w(w_n), out(out_n);
    for (auto& x : in) x = static_cast<int8_t>(rng());
    for (auto& x : w) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    std::vector<int32_t> bias(l.out_c), multiplier(l.out_c, 1 << 30), shift(l.out_c, -8);
    S8Requant q;
    q.input_offset = 128;
    q.output_offset = -128;
    q.multiplier = multiplier.data();
    q.shift = shift.data();
    std::vector<float> fin(in.begin(), in.end()), fw(w.begin(), w.end()), fbias(l.out_c), fout(out_n);
    auto s8 = MakeFastS8Conv2d(g, q, w.data(), bias.data(), 1);
    auto f32 = MakeFastF32Conv2d(g, {-1e30f, 1e30f}, fw.data(), fbias.data(), 1);
    std::vector<char> scratch(std::max(s8->scratch_bytes(), f32->scratch_bytes()) + 64);
    const double t8 = Best([&] { s8->Run(in.data(), out.data(), scratch.data(), 1); });
    const double tf = Best([&] { f32->Run(fin.data(), fout.data(), scratch.data(), 1); });
    const double macs = double(out_n) * l.k * l.k * l.in_c;
    auto share = [](double gmacs, double peak) { return peak > 0 ? gmacs / peak * 100 : 0.0; };  // 0: no peak given
    auto algorithm = [](const FastKernel& k) { return k.name().find("winograd") != std::string::npos ? "Winograd" : "direct"; };
    std::printf("| %s | %s / %s | %.2f M | %.1f | %.1f | %.0f %% | %.1f | %.1f | %.0f %% | %.2fx |\n", l.name, algorithm(*s8),
                algorithm(*f32), macs / 1e6, t8 * 1e6, macs / t8 / 1e9,
                share(macs / t8 / 1e9, int8_peak), tf * 1e6, macs / tf / 1e9, share(macs / tf / 1e9, float_peak), tf / t8);
  }
  if (only != nullptr) return 0;
  // Depthwise 3x3 layers of MLPerf VWW (depth multiplier 1).
  struct Dw {
    int size, channels, stride;
  };
  const Dw kDw[] = {{48, 8, 1}, {48, 16, 2}, {24, 32, 1}, {24, 32, 2}, {12, 64, 1}, {12, 64, 2}, {6, 128, 1}, {6, 128, 2}, {3, 256, 1}};
  std::printf("\n| depthwise 3x3 layer | MACs | int8 us | int8 GMAC/s | float32 us | float32 GMAC/s |\n|---|---:|---:|---:|---:|---:|\n");
  double total8 = 0, totalf = 0;
  for (const Dw& l : kDw) {
    ConvGeometry g = bench::SquareConvGeometry(l.size, l.channels, l.channels, 3, l.stride, /*same=*/true);
    const size_t in_n = size_t{1} * l.size * l.size * l.channels, out_n = size_t{1} * g.out_h * g.out_w * l.channels;
    std::vector<int8_t> in(in_n), w(9 * l.channels), out(out_n);
    for (auto& x : in) x = static_cast<int8_t>(rng());
    for (auto& x : w) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    std::vector<int32_t> bias(l.channels), multiplier(l.channels, 1 << 30), shift(l.channels, -8);
    S8Requant q;
    q.input_offset = 128;
    q.output_offset = -128;
    q.multiplier = multiplier.data();
    q.shift = shift.data();
    std::vector<float> fin(in.begin(), in.end()), fw(w.begin(), w.end()), fbias(l.channels), fout(out_n);
    auto s8 = MakeFastS8DwConv2d(g, q, w.data(), bias.data(), 1);
    auto f32 = MakeFastF32DwConv2d(g, {-1e30f, 1e30f}, fw.data(), fbias.data(), 1);
    std::vector<char> scratch(std::max(s8->scratch_bytes(), f32->scratch_bytes()) + 64);
    const double t8 = Best([&] { s8->Run(in.data(), out.data(), scratch.data(), 1); });
    const double tf = Best([&] { f32->Run(fin.data(), fout.data(), scratch.data(), 1); });
    const double macs = double(out_n) * 9;
    total8 += t8;
    totalf += tf;
    std::printf("| %dx%dx%d s%d | %.3f M | %.2f | %.1f | %.2f | %.1f |\n", l.size, l.size, l.channels, l.stride, macs / 1e6, t8 * 1e6,
                macs / t8 / 1e9, tf * 1e6, macs / tf / 1e9);
  }
  std::printf("| all | | %.1f | | %.1f | |\n", total8 * 1e6, totalf * 1e6);
  return 0;
}
