// Per-kernel benchmarks: each fast kernel (src/runtime/x86/) against its reference kernel
// on the layer shapes of MLPerf Tiny VWW (MobileNetV1 0.25, 96x96) and the dense 3x3
// convolutions of MobileNetV2-Rep. Reports multiply-accumulates per second.
//
//   ./build/bench/personcls_bench --benchmark_filter='BM_(S8|F32)'
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/fast_kernels.h"
#include "square_conv.h"
#include "runtime/host/thread_pool.h"
#include "runtime/quant_math.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct Layer {
  const char* name;
  int size;  // square input
  int in_c, out_c, k, stride;
  bool same;
};

// CONV_2D layers: VWW stem and pointwise convolutions, then dense 3x3 (MobileNetV2-Rep).
const Layer kConvLayers[] = {
    {"vww_stem_96x96x3_k3s2", 96, 3, 8, 3, 2, true},   {"vww_pw_48x48x8_16", 48, 8, 16, 1, 1, true},
    {"vww_pw_24x24x16_32", 24, 16, 32, 1, 1, true},     {"vww_pw_24x24x32_32", 24, 32, 32, 1, 1, true},
    {"vww_pw_12x12x32_64", 12, 32, 64, 1, 1, true},     {"vww_pw_12x12x64_64", 12, 64, 64, 1, 1, true},
    {"vww_pw_6x6x64_128", 6, 64, 128, 1, 1, true},      {"vww_pw_6x6x128_128", 6, 128, 128, 1, 1, true},
    {"vww_pw_3x3x128_256", 3, 128, 256, 1, 1, true},    {"vww_pw_3x3x256_256", 3, 256, 256, 1, 1, true},
    {"rep_3x3_34x34x3_16_s2", 34, 3, 16, 3, 2, false},  {"rep_3x3_16x16x16_16", 16, 16, 16, 3, 1, true},
    {"rep_3x3_18x18x16_16_s2", 18, 16, 16, 3, 2, false}, {"rep_3x3_4x4x32_32", 4, 32, 32, 3, 1, true},
    {"rep_3x3_24x24x32_32", 24, 32, 32, 3, 1, true},    {"rep_3x3_12x12x64_64", 12, 64, 64, 3, 1, true},
    // MobileNetV2-1.0-Rep (bench/peers/make_models.sh): stem, then one layer per stage.
    {"rep1_3x3_96x96x3_32_s2", 96, 3, 32, 3, 2, true},  {"rep1_3x3_48x48x32_32", 48, 32, 32, 3, 1, true},
    {"rep1_3x3_24x24x48_48", 24, 48, 48, 3, 1, true},   {"rep1_3x3_6x6x128_128", 6, 128, 128, 3, 1, true},
};

// DEPTHWISE_CONV_2D layers of VWW (3x3, depth multiplier 1).
const Layer kDwLayers[] = {
    {"vww_dw_48x48x8_s1", 48, 8, 8, 3, 1, true},     {"vww_dw_48x48x16_s2", 48, 16, 16, 3, 2, true},
    {"vww_dw_24x24x32_s1", 24, 32, 32, 3, 1, true},  {"vww_dw_24x24x32_s2", 24, 32, 32, 3, 2, true},
    {"vww_dw_12x12x64_s1", 12, 64, 64, 3, 1, true},  {"vww_dw_12x12x64_s2", 12, 64, 64, 3, 2, true},
    {"vww_dw_6x6x128_s1", 6, 128, 128, 3, 1, true},  {"vww_dw_6x6x128_s2", 6, 128, 128, 3, 2, true},
    {"vww_dw_3x3x256_s1", 3, 256, 256, 3, 1, true},
};

ConvGeometry MakeGeometry(const Layer& l, bool depthwise) {
  ConvGeometry g = bench::SquareConvGeometry(l.size, l.in_c, l.out_c, l.k, l.stride, l.same);
  if (depthwise) g.depth_multiplier = l.out_c / l.in_c;
  return g;
}

int64_t Macs(const ConvGeometry& g, bool depthwise) {
  return int64_t{g.batch} * g.out_h * g.out_w * g.out_c * g.k_h * g.k_w * (depthwise ? 1 : g.in_c);
}

// Random operands and per-channel int8 requantization for one layer.
struct Operands {
  std::vector<int8_t> s8_input, s8_filter, s8_output;
  std::vector<int32_t> s8_bias, multiplier, shift;
  std::vector<float> f32_input, f32_filter, f32_bias, f32_output;
  S8Requant q;

  Operands(const ConvGeometry& g, bool depthwise) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> byte(-128, 127);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f);
    const size_t in_n = size_t{1} * g.batch * g.in_h * g.in_w * g.in_c;
    const size_t filter_n = size_t{1} * g.out_c * g.k_h * g.k_w * (depthwise ? 1 : g.in_c);
    const size_t out_n = size_t{1} * g.batch * g.out_h * g.out_w * g.out_c;
    for (size_t i = 0; i < in_n; ++i) s8_input.push_back(static_cast<int8_t>(byte(rng)));
    for (size_t i = 0; i < filter_n; ++i) s8_filter.push_back(static_cast<int8_t>(byte(rng) | 1));
    for (int c = 0; c < g.out_c; ++c) {
      s8_bias.push_back(byte(rng) * 64);
      int32_t m;
      int s;
      quant::QuantizeMultiplier(0.0007 + 0.0001 * (c % 7), &m, &s);
      multiplier.push_back(m);
      shift.push_back(s);
    }
    for (size_t i = 0; i < in_n; ++i) f32_input.push_back(real(rng));
    for (size_t i = 0; i < filter_n; ++i) f32_filter.push_back(real(rng) * 0.1f);
    for (int c = 0; c < g.out_c; ++c) f32_bias.push_back(real(rng));
    s8_output.resize(out_n);
    f32_output.resize(out_n);
    q.input_offset = 128;
    q.output_offset = -128;
    q.multiplier = multiplier.data();
    q.shift = shift.data();
    q.act_min = -128;
    q.act_max = 127;
  }
};

enum class Op { kS8Conv, kF32Conv, kS8DwConv, kF32DwConv };

// Args: layer index, implementation (0 reference, 1 fast), threads (fast only).
template <Op kOp>
void BM_Layer(benchmark::State& state) {
  constexpr bool kDepthwise = kOp == Op::kS8DwConv || kOp == Op::kF32DwConv;
  const Layer& layer = kDepthwise ? kDwLayers[state.range(0)] : kConvLayers[state.range(0)];
  const bool fast = state.range(1) != 0;
  const int threads = static_cast<int>(state.range(2));
  const ConvGeometry g = MakeGeometry(layer, kDepthwise);
  Operands o(g, kDepthwise);
  const F32Clamp relu6{0.0f, 6.0f};
  std::unique_ptr<FastKernel> kernel;
  if (fast) {
    switch (kOp) {
      case Op::kS8Conv: kernel = MakeFastS8Conv2d(g, o.q, o.s8_filter.data(), o.s8_bias.data(), threads); break;
      case Op::kF32Conv: kernel = MakeFastF32Conv2d(g, relu6, o.f32_filter.data(), o.f32_bias.data(), threads); break;
      case Op::kS8DwConv: kernel = MakeFastS8DwConv2d(g, o.q, o.s8_filter.data(), o.s8_bias.data(), threads); break;
      case Op::kF32DwConv: kernel = MakeFastF32DwConv2d(g, relu6, o.f32_filter.data(), o.f32_bias.data(), threads); break;
    }
    if (!kernel) {
      state.SkipWithError("no fast kernel (CPU without AVX2/FMA?)");
      return;
    }
    state.SetLabel(std::string(layer.name) + " " + kernel->name() + " t" + std::to_string(threads));
  } else {
    state.SetLabel(std::string(layer.name) + " ref");
  }
  host::ReserveThreads(threads);
  std::vector<uint8_t> scratch(kernel ? kernel->scratch_bytes() + 64 : 0);
  constexpr bool kInt8 = kOp == Op::kS8Conv || kOp == Op::kS8DwConv;
  const void* input = kInt8 ? static_cast<const void*>(o.s8_input.data()) : static_cast<const void*>(o.f32_input.data());
  void* output = kInt8 ? static_cast<void*>(o.s8_output.data()) : static_cast<void*>(o.f32_output.data());
  for (auto _ : state) {
    if (kernel) {
      kernel->Run(input, output, scratch.data(), threads);
    } else {
      switch (kOp) {
        case Op::kS8Conv:
          ref::s8_conv2d(g, o.q, o.s8_input.data(), o.s8_filter.data(), o.s8_bias.data(), o.s8_output.data());
          break;
        case Op::kF32Conv:
          ref::f32_conv2d(g, relu6, o.f32_input.data(), o.f32_filter.data(), o.f32_bias.data(), o.f32_output.data());
          break;
        case Op::kS8DwConv:
          ref::s8_dwconv2d(g, o.q, o.s8_input.data(), o.s8_filter.data(), o.s8_bias.data(), o.s8_output.data());
          break;
        case Op::kF32DwConv:
          ref::f32_dwconv2d(g, relu6, o.f32_input.data(), o.f32_filter.data(), o.f32_bias.data(), o.f32_output.data());
          break;
      }
    }
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(Macs(g, kDepthwise)), benchmark::Counter::kIsIterationInvariantRate);
}

// Reference once (single-threaded by design), fast with 1 and 2 threads.
void LayerArgs(benchmark::internal::Benchmark* b, int layers) {
  b->ArgNames({"layer", "fast", "threads"});
  for (int l = 0; l < layers; ++l) {
    b->Args({l, 0, 1});
    b->Args({l, 1, 1});
    b->Args({l, 1, 2});
  }
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

constexpr int kNumConv = static_cast<int>(sizeof(kConvLayers) / sizeof(kConvLayers[0]));
constexpr int kNumDw = static_cast<int>(sizeof(kDwLayers) / sizeof(kDwLayers[0]));

BENCHMARK(BM_Layer<Op::kS8Conv>)->Name("BM_S8Conv2d")->Apply([](auto* b) { LayerArgs(b, kNumConv); });
BENCHMARK(BM_Layer<Op::kF32Conv>)->Name("BM_F32Conv2d")->Apply([](auto* b) { LayerArgs(b, kNumConv); });
BENCHMARK(BM_Layer<Op::kS8DwConv>)->Name("BM_S8DwConv2d")->Apply([](auto* b) { LayerArgs(b, kNumDw); });
BENCHMARK(BM_Layer<Op::kF32DwConv>)->Name("BM_F32DwConv2d")->Apply([](auto* b) { LayerArgs(b, kNumDw); });

}  // namespace
}  // namespace personcls
