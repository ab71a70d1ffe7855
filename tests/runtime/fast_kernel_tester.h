// Shared pieces of the randomized fast-vs-reference kernel tests
// (conv2d_fast_test.cc, dwconv2d_fast_test.cc): random int8 requantization parameters,
// random data, and running a FastKernel with guard bytes around its scratch and output.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/fast_kernels.h"
#include "runtime/host/thread_pool.h"
#include "runtime/kernel_params.h"
#include "runtime/quant_math.h"

namespace personcls::testing {

// Owns the arrays an S8Requant points at.
struct RandomRequant {
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;
  S8Requant q;

  // Random per-tensor or per-channel requantization whose real multipliers map an
  // accumulator of magnitude `typical_acc` to roughly +-64 (so outputs are spread over the
  // int8 range rather than all saturated), random zero points and activation range.
  void Generate(std::mt19937& rng, int channels, bool per_tensor, double typical_acc, int32_t input_zero_point) {
    const int n = per_tensor ? 1 : channels;
    multiplier.resize(n);
    shift.resize(n);
    std::uniform_real_distribution<double> scale(0.25, 4.0);
    for (int c = 0; c < n; ++c) {
      const double real = 64.0 / std::max(typical_acc, 1.0) * scale(rng);
      int s = 0;
      quant::QuantizeMultiplier(real, &multiplier[c], &s);
      shift[c] = s;
    }
    q.input_offset = -input_zero_point;
    q.output_offset = std::uniform_int_distribution<int>(-128, 127)(rng);
    q.multiplier = multiplier.data();
    q.shift = shift.data();
    q.per_tensor = per_tensor;
    // Half the cases use the full range, the others a random sub-range (a fused ReLU or
    // ReLU6 clamps to such a range).
    if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
      q.act_min = -128;
      q.act_max = 127;
    } else {
      int a = std::uniform_int_distribution<int>(-128, 127)(rng);
      int b = std::uniform_int_distribution<int>(-128, 127)(rng);
      q.act_min = std::min(a, b);
      q.act_max = std::max(a, b);
    }
  }
};

inline std::vector<int8_t> RandomInt8(std::mt19937& rng, size_t n, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

inline std::vector<float> RandomFloat(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A random float clamp: none, ReLU, ReLU6 or a random interval.
inline F32Clamp RandomClamp(std::mt19937& rng) {
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0: return {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
    case 1: return {0.0f, std::numeric_limits<float>::max()};
    case 2: return {0.0f, 6.0f};
    default: {
      const float a = std::uniform_real_distribution<float>(-1.0f, 0.5f)(rng);
      return {a, a + std::uniform_real_distribution<float>(0.1f, 1.5f)(rng)};
    }
  }
}

// Runs `kernel` on `input` into `output` (resized to `output_elements`) with `threads`
// threads. Scratch and output are surrounded by guard bytes that must survive: a write
// outside them fails the test.
// Kernels are built while host::SetFineSplittingForTesting(true) (see the test fixtures),
// so even small shapes run as several one-row tasks on `threads` threads.
template <typename T>
void RunWithGuards(const FastKernel& kernel, const void* input, size_t output_elements, int threads, std::vector<T>& output) {
  host::ReserveThreads(threads);
  constexpr size_t kGuard = 256;
  constexpr uint8_t kPattern = 0xA5;
  std::vector<uint8_t> scratch(kernel.scratch_bytes() + 2 * kGuard + 64, kPattern);
  // 64-byte aligned scratch start, as the arena would give at best; kernels must cope with 16.
  uint8_t* aligned = scratch.data() + kGuard;
  aligned += (64 - reinterpret_cast<uintptr_t>(aligned) % 64) % 64;
  aligned += 16;  // the planner only guarantees 16-byte alignment
  std::vector<uint8_t> out_bytes(output_elements * sizeof(T) + 2 * kGuard, kPattern);
  kernel.Run(input, out_bytes.data() + kGuard, aligned, threads);
  for (uint8_t* p = scratch.data(); p < aligned; ++p) ASSERT_EQ(*p, kPattern) << "write before scratch";
  for (uint8_t* p = aligned + kernel.scratch_bytes(); p < scratch.data() + scratch.size(); ++p)
    ASSERT_EQ(*p, kPattern) << "write past scratch_bytes() = " << kernel.scratch_bytes();
  for (size_t i = 0; i < kGuard; ++i) {
    ASSERT_EQ(out_bytes[i], kPattern) << "write before output";
    ASSERT_EQ(out_bytes[kGuard + output_elements * sizeof(T) + i], kPattern) << "write past output";
  }
  output.resize(output_elements);
  std::memcpy(output.data(), out_bytes.data() + kGuard, output_elements * sizeof(T));
}

inline std::string GeometryString(const ConvGeometry& g) {
  std::ostringstream s;
  s << "N" << g.batch << " in " << g.in_h << "x" << g.in_w << "x" << g.in_c << " out " << g.out_h << "x" << g.out_w << "x" << g.out_c
    << " k " << g.k_h << "x" << g.k_w << " s " << g.stride_h << "," << g.stride_w << " d " << g.dilation_h << "," << g.dilation_w
    << " pad " << g.pad_top << "," << g.pad_left << " M " << g.depth_multiplier;
  return s.str();
}

// Fills the spatial geometry as PrepareSpatialGeometry does for SAME/VALID padding.
// Returns false when the output would be empty.
inline bool FillGeometry(ConvGeometry& g, bool same) {
  g.out_h = ConvOutputSize(same, g.in_h, g.k_h, g.stride_h, g.dilation_h);
  g.out_w = ConvOutputSize(same, g.in_w, g.k_w, g.stride_w, g.dilation_w);
  if (g.out_h < 1 || g.out_w < 1) return false;
  g.pad_top = same ? ConvLeadingPadding(g.stride_h, g.dilation_h, g.in_h, g.k_h, g.out_h) : 0;
  g.pad_left = same ? ConvLeadingPadding(g.stride_w, g.dilation_w, g.in_w, g.k_w, g.out_w) : 0;
  return true;
}

// Float comparison of the fast kernels: |fast - ref| <= max(1e-5 * |ref|, 1e-5).
inline bool FloatClose(float fast, float ref) {
  return std::fabs(fast - ref) <= std::max(1e-5f * std::fabs(ref), 1e-5f);
}

}  // namespace personcls::testing
