// MCU kernel tests, run in QEMU: every kernel this build selects (arm_dsp on the
// Cortex-M4, arm_mve on the Cortex-M55) against the reference kernel of its op, on
// randomized odd shapes and every quantization path, bit for bit. Each case prints
// nothing unless it fails; the summary line says how many cases ran and which kernels
// they reached. Seeds: case i uses xorshift32 seeded with i + 1 (printed on failure).
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "harness.h"
#include "runtime/mcu_kernels.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

void Print(const char* format, ...) __attribute__((format(printf, 1, 2)));
void Print(const char* format, ...) {
  char line[256];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  pcls_puts(line);
}

struct Rng {
  uint32_t s;
  uint32_t Next() {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
  }
  int Uniform(int lo, int hi) { return lo + static_cast<int>(Next() % static_cast<uint32_t>(hi - lo + 1)); }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }
  template <typename T, int N>
  T Pick(const T (&options)[N]) {
    return options[Uniform(0, N - 1)];
  }
};

// Buffers big enough for every case below.
constexpr int kMaxTensor = 24 * 1024;
alignas(16) int8_t g_input[kMaxTensor];
alignas(16) int8_t g_filter[kMaxTensor];
alignas(16) int8_t g_expected[kMaxTensor];
alignas(16) int8_t g_actual[kMaxTensor + 16];
alignas(16) int32_t g_bias[512];
alignas(16) int32_t g_multiplier[512];
alignas(16) int32_t g_shift[512];
alignas(16) uint8_t g_scratch[64 * 1024];
alignas(16) uint8_t g_prepared[16 * 1024];

// A requantization: per-tensor or per-channel Q31 multipliers; shifts mostly <= -1 (the
// common case, which the DSP kernels' fast path covers) and sometimes >= 0; a fused
// activation range; offsets anywhere in int8.
S8Requant RandomRequant(Rng& rng, int channels, bool with_filter_offset) {
  S8Requant q;
  q.input_offset = rng.Uniform(-127, 128);
  q.filter_offset = with_filter_offset && rng.Chance(30) ? rng.Uniform(-127, 128) : 0;
  q.output_offset = rng.Uniform(-128, 127);
  q.per_tensor = rng.Chance(30);
  const int n = q.per_tensor ? 1 : channels;
  const bool large_shifts = rng.Chance(20);
  for (int c = 0; c < n; ++c) {
    g_multiplier[c] = static_cast<int32_t>((1u << 30) + (rng.Next() & 0x3FFFFFFFu));
    g_shift[c] = large_shifts ? rng.Uniform(-3, 2) : rng.Uniform(-14, -4);
  }
  q.multiplier = g_multiplier;
  q.shift = g_shift;
  const int act = rng.Uniform(0, 2);  // none, relu-like, relu6-like
  q.act_min = act == 0 ? -128 : rng.Uniform(-128, 0);
  q.act_max = act == 2 ? rng.Uniform(q.act_min, 127) : 127;
  return q;
}

void FillInt8(Rng& rng, int8_t* p, int n) {
  for (int i = 0; i < n; ++i) p[i] = static_cast<int8_t>(rng.Next());
}

void FillBias(Rng& rng, int n, bool huge) {
  for (int i = 0; i < n; ++i)
    g_bias[i] = huge && rng.Chance(50) ? static_cast<int32_t>(rng.Next() >> 2) - (1 << 29) : rng.Uniform(-40000, 40000);
}

int g_failures = 0;
int g_cases = 0;
char g_reached[12][40];  // kernel names seen
int g_num_reached = 0;

void Reached(const char* name) {
  for (int i = 0; i < g_num_reached; ++i)
    if (std::strcmp(g_reached[i], name) == 0) return;
  if (g_num_reached < 12) std::strncpy(g_reached[g_num_reached++], name, sizeof(g_reached[0]) - 1);
}

bool Compare(const char* what, uint32_t seed, int n) {
  for (int i = 0; i < n; ++i)
    if (g_actual[i] != g_expected[i]) {
      Print("FAIL %s seed %lu: output %d is %d, reference %d\n", what, static_cast<unsigned long>(seed), i, g_actual[i], g_expected[i]);
      ++g_failures;
      return false;
    }
  // Nothing written past the output.
  for (int i = n; i < n + 16; ++i)
    if (g_actual[i] != 0x55) {
      Print("FAIL %s seed %lu: wrote past the output\n", what, static_cast<unsigned long>(seed));
      ++g_failures;
      return false;
    }
  return true;
}

ConvGeometry RandomGeometry(Rng& rng, bool depthwise) {
  ConvGeometry g;
  static const int kChannels[] = {1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 24, 32, 33};
  static const int kKernel[] = {1, 1, 2, 3, 3, 5};
  g.batch = rng.Chance(20) ? 2 : 1;
  g.in_h = rng.Uniform(1, 11);
  g.in_w = rng.Uniform(1, 13);
  g.in_c = rng.Pick(kChannels);
  g.k_h = rng.Pick(kKernel);
  g.k_w = rng.Chance(80) ? g.k_h : rng.Uniform(1, 4);
  g.stride_h = rng.Uniform(1, 3);
  g.stride_w = rng.Chance(80) ? g.stride_h : rng.Uniform(1, 3);
  g.dilation_h = rng.Chance(15) ? 2 : 1;
  g.dilation_w = rng.Chance(15) ? 2 : 1;
  g.depth_multiplier = depthwise && rng.Chance(25) ? rng.Uniform(2, 3) : 1;
  g.out_c = depthwise ? g.in_c * g.depth_multiplier : rng.Uniform(1, 37);
  const bool same = rng.Chance(60);
  const int eff_h = (g.k_h - 1) * g.dilation_h + 1, eff_w = (g.k_w - 1) * g.dilation_w + 1;
  if (!same && (eff_h > g.in_h || eff_w > g.in_w)) {
    g.in_h += eff_h;
    g.in_w += eff_w;
  }
  g.out_h = ConvOutputSize(same, g.in_h, g.k_h, g.stride_h, g.dilation_h);
  g.out_w = ConvOutputSize(same, g.in_w, g.k_w, g.stride_w, g.dilation_w);
  g.pad_top = same ? ConvLeadingPadding(g.stride_h, g.dilation_h, g.in_h, g.k_h, g.out_h) : 0;
  g.pad_left = same ? ConvLeadingPadding(g.stride_w, g.dilation_w, g.in_w, g.k_w, g.out_w) : 0;
  return g;
}

void TestConv(uint32_t seed, bool depthwise) {
  Rng rng{seed * 2654435761u + 1};
  const ConvGeometry g = RandomGeometry(rng, depthwise);
  const int in_n = g.batch * g.in_h * g.in_w * g.in_c;
  const int out_n = g.batch * g.out_h * g.out_w * g.out_c;
  const int filter_n = depthwise ? g.k_h * g.k_w * g.out_c : g.out_c * g.k_h * g.k_w * g.in_c;
  if (in_n > kMaxTensor || out_n > kMaxTensor || filter_n > kMaxTensor || g.out_c > 512) return;
  const S8Requant q = RandomRequant(rng, g.out_c, false);
  FillInt8(rng, g_input, in_n);
  FillInt8(rng, g_filter, filter_n);
  if (rng.Chance(10)) g_filter[0] = -128;  // the extreme weight
  const bool has_bias = rng.Chance(85);
  FillBias(rng, g.out_c, rng.Chance(10));
  const int32_t* bias = has_bias ? g_bias : nullptr;
  BufferAllocator allocator(g_prepared, sizeof(g_prepared));
  McuS8Conv kernel;
  const bool selected = depthwise ? SelectMcuS8DwConv2d(g, q, g_filter, bias, allocator, &kernel)
                                  : SelectMcuS8Conv2d(g, q, g_filter, bias, allocator, &kernel);
  if (!selected) return;
  if (kernel.scratch_bytes > sizeof(g_scratch)) return;
  ++g_cases;
  Reached(kernel.name);
  if (depthwise)
    ref::s8_dwconv2d(g, q, g_input, g_filter, bias, g_expected);
  else
    ref::s8_conv2d(g, q, g_input, g_filter, bias, g_expected);
  std::memset(g_actual, 0x55, out_n + 16);
  std::memset(g_scratch, 0xA5, kernel.scratch_bytes);  // kernels must not rely on zeroed scratch
  kernel.run(g, q, g_input, g_filter, bias, g_actual, g_scratch, kernel.extra);
  if (!Compare(kernel.name, seed, out_n))
    Print("  geometry n%d %dx%dx%d -> %dx%dx%d k%dx%d s%dx%d d%dx%d pad %d,%d m%d per_tensor %d\n", g.batch, g.in_h, g.in_w, g.in_c,
          g.out_h, g.out_w, g.out_c, g.k_h, g.k_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_top, g.pad_left,
          g.depth_multiplier, q.per_tensor);
}

void TestFullyConnected(uint32_t seed) {
  Rng rng{seed * 2246822519u + 7};
  const int batch = rng.Uniform(1, 3);
  const int depth = rng.Chance(20) ? rng.Uniform(200, 700) : rng.Uniform(1, 67);
  const int units = rng.Uniform(1, 21);
  if (batch * depth > kMaxTensor || units * depth > kMaxTensor) return;
  S8Requant q = RandomRequant(rng, 1, true);
  q.per_tensor = true;
  FillInt8(rng, g_input, batch * depth);
  FillInt8(rng, g_filter, units * depth);
  FillBias(rng, units, rng.Chance(10));
  const int32_t* bias = rng.Chance(85) ? g_bias : nullptr;
  BufferAllocator allocator(g_prepared, sizeof(g_prepared));
  McuS8FullyConnected kernel;
  if (!SelectMcuS8FullyConnected(batch, depth, units, q, g_filter, bias, allocator, &kernel)) return;
  ++g_cases;
  Reached(kernel.name);
  ref::s8_fully_connected(batch, depth, units, q, g_input, g_filter, bias, g_expected);
  std::memset(g_actual, 0x55, batch * units + 16);
  kernel.run(batch, depth, units, q, g_input, g_filter, bias, g_actual, kernel.extra);
  if (!Compare(kernel.name, seed, batch * units)) Print("  batch %d depth %d units %d\n", batch, depth, units);
}

void TestPool(uint32_t seed, bool average) {
  Rng rng{seed * 3266489917u + 11};
  ConvGeometry g = RandomGeometry(rng, true);
  // Pools have no dilation or depth multiplier; sometimes one window over the whole image
  // (as the global average pool of MobileNets), sometimes wide channel rows.
  g.dilation_h = g.dilation_w = 1;
  g.depth_multiplier = 1;
  if (rng.Chance(30)) g.in_c = rng.Uniform(1, 300);
  g.out_c = g.in_c;
  const bool same = rng.Chance(60);
  if (rng.Chance(15)) {
    g.k_h = g.in_h;
    g.k_w = g.in_w;
  }
  if (!same && (g.k_h > g.in_h || g.k_w > g.in_w)) {
    g.in_h = std::max(g.in_h, g.k_h);
    g.in_w = std::max(g.in_w, g.k_w);
  }
  g.out_h = ConvOutputSize(same, g.in_h, g.k_h, g.stride_h, 1);
  g.out_w = ConvOutputSize(same, g.in_w, g.k_w, g.stride_w, 1);
  g.pad_top = same ? ConvLeadingPadding(g.stride_h, 1, g.in_h, g.k_h, g.out_h) : 0;
  g.pad_left = same ? ConvLeadingPadding(g.stride_w, 1, g.in_w, g.k_w, g.out_w) : 0;
  const int in_n = g.batch * g.in_h * g.in_w * g.in_c;
  const int out_n = g.batch * g.out_h * g.out_w * g.out_c;
  if (in_n > kMaxTensor || out_n > kMaxTensor) return;
  const int act = rng.Uniform(0, 2);  // none, relu-like, relu6-like
  const int32_t act_min = act == 0 ? -128 : rng.Uniform(-128, 0);
  const int32_t act_max = act == 2 ? rng.Uniform(act_min, 127) : 127;
  FillInt8(rng, g_input, in_n);
  if (rng.Chance(20))  // saturated inputs: the extreme sums and maxima
    for (int i = 0; i < in_n; ++i) g_input[i] = rng.Chance(50) ? -128 : 127;
  McuS8Pool kernel;
  if (!(average ? SelectMcuS8AvgPool2d(g, &kernel) : SelectMcuS8MaxPool2d(g, &kernel))) return;
  // Windows entirely in padding have no average: the op refuses those models.
  std::memset(g_expected, 0x55, out_n);
  if (average) {
    if (!ref::s8_avgpool2d(g, act_min, act_max, g_input, g_expected)) return;
  } else {
    ref::s8_maxpool2d(g, act_min, act_max, g_input, g_expected);
  }
  ++g_cases;
  Reached(kernel.name);
  std::memset(g_actual, 0x55, out_n + 16);
  kernel.run(g, act_min, act_max, g_input, g_actual);
  if (!Compare(kernel.name, seed, out_n))
    Print("  geometry n%d %dx%dx%d -> %dx%d k%dx%d s%dx%d pad %d,%d act [%ld, %ld]\n", g.batch, g.in_h, g.in_w, g.in_c, g.out_h, g.out_w,
          g.k_h, g.k_w, g.stride_h, g.stride_w, g.pad_top, g.pad_left, static_cast<long>(act_min), static_cast<long>(act_max));
}

}  // namespace
}  // namespace personcls

int main() {
  using namespace personcls;
  constexpr uint32_t kCases = 400;
  for (uint32_t i = 1; i <= kCases; ++i) {
    TestConv(i, false);
    TestConv(i + 100000, true);
    TestFullyConnected(i);
    TestPool(i + 200000, true);
    TestPool(i + 300000, false);
  }
  Print("kernel family %s: %d cases, %d failures; kernels reached:", McuKernelFamily(), g_cases, g_failures);
  for (int i = 0; i < g_num_reached; ++i) Print(" %s", g_reached[i]);
  pcls_puts("\n");
  if (g_cases == 0) {
    pcls_puts("FAIL no MCU kernel was selected\n");
    return 1;
  }
  if (g_failures == 0) pcls_puts("all MCU kernel outputs bit-exact with the reference kernels\n");
  return g_failures ? 1 : 0;
}
