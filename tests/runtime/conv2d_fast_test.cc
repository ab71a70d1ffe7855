// Fast CONV_2D kernels (MakeFastS8Conv2d / MakeFastF32Conv2d, src/runtime/x86/) against
// ref::s8_conv2d / ref::f32_conv2d on randomized data over many shapes: int8 must match
// exactly, float32 within max(1e-5 |ref|, 1e-5); 1 and 2 threads must agree bit for bit.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "runtime/fast_kernel_tester.h"
#include "runtime/fast_kernels.h"
#include "runtime/ref/ref_kernels.h"
#include "runtime/x86/x86_kernels.h"
#include "test_util.h"

namespace personcls {
namespace {

using ::personcls::testing::FillGeometry;
using ::personcls::testing::FloatClose;
using ::personcls::testing::GeometryString;
using ::personcls::testing::RandomClamp;
using ::personcls::testing::RandomFloat;
using ::personcls::testing::RandomInt8;
using ::personcls::testing::RandomRequant;
using ::personcls::testing::RunWithGuards;

// Fluent description of one randomized CONV_2D case (XNNPACK-tester style):
//   ConvTester().input(13, 11, 7).output_channels(17).kernel(3, 3).stride(2).TestS8(seed);
class ConvTester {
 public:
  ConvTester& batch(int n) {
    g_.batch = n;
    return *this;
  }
  ConvTester& input(int h, int w, int c) {
    g_.in_h = h;
    g_.in_w = w;
    g_.in_c = c;
    return *this;
  }
  ConvTester& output_channels(int c) {
    g_.out_c = c;
    return *this;
  }
  ConvTester& kernel(int kh, int kw) {
    g_.k_h = kh;
    g_.k_w = kw;
    return *this;
  }
  ConvTester& stride(int s) { return stride(s, s); }
  ConvTester& stride(int sh, int sw) {
    g_.stride_h = sh;
    g_.stride_w = sw;
    return *this;
  }
  ConvTester& dilation(int d) {
    g_.dilation_h = g_.dilation_w = d;
    return *this;
  }
  ConvTester& same(bool s) {
    same_ = s;
    return *this;
  }
  ConvTester& per_channel(bool p) {
    per_channel_ = p;
    return *this;
  }
  ConvTester& bias(bool b) {
    bias_ = b;
    return *this;
  }
  // The direct kernels (s8_conv2d_avx2, f32_conv2d_avx2) even where the factories pick Winograd.
  ConvTester& direct(bool d) {
    direct_ = d;
    return *this;
  }
  // Fixes the input zero point (otherwise random).
  ConvTester& input_zero_point(int zp) {
    input_zp_ = zp;
    return *this;
  }

  // False when the geometry has no output (kernel larger than the input with VALID).
  bool Valid() const {
    ConvGeometry g = g_;
    return FillGeometry(g, same_);
  }

  void TestS8(uint32_t seed) const {
    ConvGeometry g = g_;
    ASSERT_TRUE(FillGeometry(g, same_));
    SCOPED_TRACE(GeometryString(g) + " seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int zp = input_zp_ != kRandomZp ? input_zp_ : std::uniform_int_distribution<int>(-128, 127)(rng);
    const int depth = g.k_h * g.k_w * g.in_c;
    const auto input = RandomInt8(rng, size_t{1} * g.batch * g.in_h * g.in_w * g.in_c);
    const auto filter = RandomInt8(rng, size_t{1} * g.out_c * depth, -127, 127);
    std::vector<int32_t> bias(g.out_c);
    for (auto& b : bias) b = std::uniform_int_distribution<int32_t>(-40000, 40000)(rng);
    RandomRequant rq;
    rq.Generate(rng, g.out_c, !per_channel_, 74.0 * 74.0 * std::sqrt(static_cast<double>(depth)), zp);

    const size_t out_n = size_t{1} * g.batch * g.out_h * g.out_w * g.out_c;
    std::vector<int8_t> expected(out_n);
    ref::s8_conv2d(g, rq.q, input.data(), filter.data(), bias_ ? bias.data() : nullptr, expected.data());

    auto kernel = direct_ ? x86::MakeS8Conv2dAvx2(g, rq.q, filter.data(), bias_ ? bias.data() : nullptr, /*max_threads=*/3)
                          : MakeFastS8Conv2d(g, rq.q, filter.data(), bias_ ? bias.data() : nullptr, /*max_threads=*/3);
    ASSERT_NE(kernel, nullptr) << "no fast kernel for this geometry";
    std::vector<int8_t> got1, got2, got3;
    RunWithGuards(*kernel, input.data(), out_n, 1, got1);
    RunWithGuards(*kernel, input.data(), out_n, 2, got2);
    RunWithGuards(*kernel, input.data(), out_n, 3, got3);
    int mismatches = 0;
    for (size_t i = 0; i < out_n; ++i) {
      if (got1[i] != expected[i] && ++mismatches <= 5)
        ADD_FAILURE() << kernel->name() << " [" << i << "] (oc " << i % g.out_c << "): got " << int{got1[i]} << ", ref "
                      << int{expected[i]};
    }
    ASSERT_EQ(mismatches, 0) << "of " << out_n;
    ASSERT_EQ(got1, got2) << "1 and 2 threads differ";
    ASSERT_EQ(got1, got3) << "1 and 3 threads differ";
  }

  void TestF32(uint32_t seed) const {
    ConvGeometry g = g_;
    ASSERT_TRUE(FillGeometry(g, same_));
    SCOPED_TRACE(GeometryString(g) + " seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int depth = g.k_h * g.k_w * g.in_c;
    // Weights scaled like a trained layer's (variance ~ 1/depth): sums stay O(1), where
    // a relative tolerance of 1e-5 is meaningful.
    const float w_range = std::sqrt(3.0f / static_cast<float>(depth));
    const auto input = RandomFloat(rng, size_t{1} * g.batch * g.in_h * g.in_w * g.in_c, -1.0f, 1.0f);
    const auto filter = RandomFloat(rng, size_t{1} * g.out_c * depth, -w_range, w_range);
    const auto bias = RandomFloat(rng, g.out_c, -0.5f, 0.5f);
    const F32Clamp clamp = RandomClamp(rng);

    const size_t out_n = size_t{1} * g.batch * g.out_h * g.out_w * g.out_c;
    std::vector<float> expected(out_n);
    ref::f32_conv2d(g, clamp, input.data(), filter.data(), bias_ ? bias.data() : nullptr, expected.data());

    auto kernel = direct_ ? x86::MakeF32Conv2dAvx2(g, clamp, filter.data(), bias_ ? bias.data() : nullptr, /*max_threads=*/3)
                              : MakeFastF32Conv2d(g, clamp, filter.data(), bias_ ? bias.data() : nullptr, /*max_threads=*/3);
    ASSERT_NE(kernel, nullptr) << "no fast kernel for this geometry";
    std::vector<float> got1, got2, got3;
    RunWithGuards(*kernel, input.data(), out_n, 1, got1);
    RunWithGuards(*kernel, input.data(), out_n, 2, got2);
    RunWithGuards(*kernel, input.data(), out_n, 3, got3);
    int mismatches = 0;
    for (size_t i = 0; i < out_n; ++i) {
      if (!FloatClose(got1[i], expected[i]) && ++mismatches <= 5)
        ADD_FAILURE() << kernel->name() << " [" << i << "] (oc " << i % g.out_c << "): got " << got1[i] << ", ref " << expected[i];
    }
    ASSERT_EQ(mismatches, 0) << "of " << out_n;
    ASSERT_EQ(0, std::memcmp(got1.data(), got2.data(), out_n * sizeof(float))) << "1 and 2 threads differ";
    ASSERT_EQ(0, std::memcmp(got1.data(), got3.data(), out_n * sizeof(float))) << "1 and 3 threads differ";
  }

 private:
  static constexpr int kRandomZp = 1000;
  ConvGeometry g_;
  bool same_ = true;
  bool per_channel_ = true;
  bool bias_ = true;
  bool direct_ = false;
  int input_zp_ = kRandomZp;
};

class Conv2dFastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CpuHasAvx2Fma()) GTEST_SKIP() << "CPU without AVX2/FMA: no fast kernels";
    host::SetFineSplittingForTesting(true);
  }
  void TearDown() override { host::SetFineSplittingForTesting(false); }
  uint32_t NextSeed() { return ::personcls::testing::TestSeed() + counter_++; }
  uint32_t counter_ = 0;
};

const int kChannels[] = {1, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64};

TEST_F(Conv2dFastTest, PointwiseChannelSweep) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  for (int cin : kChannels) {
    for (int cout : kChannels) {
      const ConvTester t = ConvTester().input(5, 7, cin).output_channels(cout).kernel(1, 1).per_channel(cout % 2 == 1);
      t.TestS8(NextSeed());
      t.TestF32(NextSeed());
      if (HasFatalFailure()) return;
    }
  }
}

TEST_F(Conv2dFastTest, PointwiseSpatialStrideBatch) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  const int sizes[] = {1, 2, 3, 5, 7, 11, 13};
  for (int h : sizes) {
    for (int w : {1, 3, 13}) {
      for (int s : {1, 2}) {
        for (int n : {1, 2}) {
          const ConvTester t = ConvTester().batch(n).input(h, w, 9).output_channels(33).kernel(1, 1).stride(s).same(s == 1);
          t.TestS8(NextSeed());
          t.TestF32(NextSeed());
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_F(Conv2dFastTest, Dense3x3Sweep) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  const int channels[] = {1, 3, 8, 9, 16, 17, 33};
  const int sizes[] = {1, 2, 3, 5, 7, 11, 13};
  for (int cin : channels) {
    for (int cout : {1, 8, 15, 16, 31}) {
      for (int size : sizes) {
        for (int s : {1, 2}) {
          for (bool same : {true, false}) {
            const ConvTester t =
                ConvTester().input(size, size + (cin % 3), cin).output_channels(cout).kernel(3, 3).stride(s).same(same).per_channel(
                    (cin + cout) % 2 == 0);
            if (!t.Valid()) continue;
            t.TestS8(NextSeed());
            t.TestF32(NextSeed());
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

// 3x3 stride 1 runs Winograd F(2x2, 3x3) from 8 channels on, int8 bit-exact and float32
// within tolerance (the sweeps above and below cover it); the direct kernels still cover
// those shapes for other callers.
TEST_F(Conv2dFastTest, ThreeByThreeStride1PicksWinogradAndDirectStillMatches) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  ConvGeometry g;
  g.in_h = g.in_w = 12;
  g.in_c = 16;
  g.out_c = 24;
  g.k_h = g.k_w = 3;
  ASSERT_TRUE(::personcls::testing::FillGeometry(g, true));
  const std::vector<float> filter(size_t{24} * 9 * 16, 0.1f);
  const std::vector<int8_t> filter8(size_t{24} * 9 * 16, 3);
  std::mt19937 rng(1);
  ::personcls::testing::RandomRequant rq;
  rq.Generate(rng, g.out_c, false, 1000.0, 0);
  EXPECT_EQ(MakeFastF32Conv2d(g, {-1e30f, 1e30f}, filter.data(), nullptr)->name(), "f32_conv2d_3x3s1_winograd_avx2");
  EXPECT_EQ(MakeFastS8Conv2d(g, rq.q, filter8.data(), nullptr)->name(), "s8_conv2d_3x3s1_winograd_avx2");
  g.in_c = 7;  // too few channels for the transforms to pay: direct
  EXPECT_EQ(MakeFastF32Conv2d(g, {-1e30f, 1e30f}, filter.data(), nullptr)->name(), "f32_conv2d_avx2");
  EXPECT_EQ(MakeFastS8Conv2d(g, rq.q, filter8.data(), nullptr)->name(), "s8_conv2d_avx2");
  for (int size : {1, 2, 5, 9}) {
    for (int cin : {8, 17}) {
      const ConvTester t = ConvTester().input(size, size + 2, cin).output_channels(19).kernel(3, 3).direct(true);
      t.TestS8(NextSeed());
      t.TestF32(NextSeed());
      if (HasFatalFailure()) return;
    }
  }
}

// The int8 Winograd kernel's exactness argument at its edges: extreme zero points (the
// padding value), the most input channels it takes (1024: the largest transformed sums),
// odd channel counts and no bias.
TEST_F(Conv2dFastTest, WinogradInt8Extremes) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  for (int zp : {-128, 127}) {
    for (bool bias : {false, true}) {
      ConvTester().input(6, 7, 16).output_channels(17).kernel(3, 3).input_zero_point(zp).bias(bias).TestS8(NextSeed());
      if (HasFatalFailure()) return;
    }
  }
  ConvTester().input(3, 4, 1024).output_channels(9).kernel(3, 3).TestS8(NextSeed());
  ConvTester().batch(2).input(5, 3, 1023).output_channels(8).kernel(3, 3).same(false).TestS8(NextSeed());
}

TEST_F(Conv2dFastTest, Dense3x3WideChannelsAndBatch) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  for (int cin : {31, 64}) {
    for (int cout : {33, 64}) {
      for (int n : {1, 2}) {
        for (int s : {1, 2}) {
          const ConvTester t = ConvTester().batch(n).input(11, 7, cin).output_channels(cout).kernel(3, 3).stride(s);
          t.TestS8(NextSeed());
          t.TestF32(NextSeed());
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_F(Conv2dFastTest, OtherKernelSizesDilationAndStrides) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  struct Case {
    int kh, kw, sh, sw, dilation;
  };
  const Case cases[] = {{2, 2, 1, 1, 1}, {2, 2, 2, 2, 1}, {5, 5, 1, 1, 1}, {5, 5, 2, 2, 1}, {1, 3, 1, 1, 1}, {3, 1, 2, 1, 1},
                        {7, 7, 2, 2, 1}, {3, 3, 1, 1, 2}, {3, 3, 2, 2, 2}, {3, 3, 3, 3, 1}, {1, 1, 3, 2, 1}, {4, 2, 1, 3, 1}};
  for (const Case& c : cases) {
    for (bool same : {true, false}) {
      for (int cin : {3, 8, 17}) {
        const ConvTester t = ConvTester()
                                 .input(13, 11, cin)
                                 .output_channels(cin == 8 ? 16 : 7)
                                 .kernel(c.kh, c.kw)
                                 .stride(c.sh, c.sw)
                                 .dilation(c.dilation)
                                 .same(same);
        if (!t.Valid()) continue;
        t.TestS8(NextSeed());
        t.TestF32(NextSeed());
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_F(Conv2dFastTest, ZeroPointExtremesPerTensorAndNoBias) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  for (int zp : {-128, 127, 0}) {
    for (bool per_channel : {false, true}) {
      for (bool bias : {false, true}) {
        const ConvTester t =
            ConvTester().input(7, 5, 5).output_channels(17).kernel(3, 3).input_zero_point(zp).per_channel(per_channel).bias(bias);
        t.TestS8(NextSeed());
        if (!bias) t.TestF32(NextSeed());
        if (HasFatalFailure()) return;
      }
    }
  }
}

// The layer shapes of MLPerf Tiny VWW (MobileNetV1 0.25, 96x96) and of the dense 3x3
// convolutions of MobileNetV2-Rep.
TEST_F(Conv2dFastTest, ModelLayerShapes) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  struct Case {
    int h, w, cin, cout, k, s;
    bool same;
  };
  const Case cases[] = {
      {96, 96, 3, 8, 3, 2, true},    {48, 48, 8, 16, 1, 1, true},   {24, 24, 16, 32, 1, 1, true}, {24, 24, 32, 32, 1, 1, true},
      {12, 12, 32, 64, 1, 1, true},  {12, 12, 64, 64, 1, 1, true},  {6, 6, 64, 128, 1, 1, true},  {6, 6, 128, 128, 1, 1, true},
      {3, 3, 128, 256, 1, 1, true},  {3, 3, 256, 256, 1, 1, true},  {1, 1, 256, 2, 1, 1, true},   {34, 34, 3, 16, 3, 2, false},
      {16, 16, 16, 16, 3, 1, true},  {18, 18, 16, 16, 3, 2, false}, {10, 10, 16, 32, 3, 2, false}, {4, 4, 32, 32, 3, 1, true},
      {24, 24, 48, 48, 3, 1, true},  {12, 12, 64, 64, 3, 1, true},
  };
  for (const Case& c : cases) {
    const ConvTester t = ConvTester().input(c.h, c.w, c.cin).output_channels(c.cout).kernel(c.k, c.k).stride(c.s).same(c.same);
    t.TestS8(NextSeed());
    t.TestF32(NextSeed());
    if (HasFatalFailure()) return;
  }
}

// Requantization over the whole int32 accumulator range and every shift: a 1x1
// convolution of one channel with weight 1 makes the accumulator input + bias, so random
// biases drive the vector requantization through extreme values.
TEST_F(Conv2dFastTest, RequantizationFullRange) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  std::mt19937 rng(::personcls::testing::TestSeed());
  ConvGeometry g;
  g.in_h = 1;
  g.in_w = 64;
  g.in_c = 1;
  g.out_h = 1;
  g.out_w = 64;
  g.out_c = 40;
  for (int round = 0; round < 50; ++round) {
    const auto input = RandomInt8(rng, g.in_w, -3, 3);
    const std::vector<int8_t> filter(g.out_c, 1);
    std::vector<int32_t> bias(g.out_c), multiplier(g.out_c), shift(g.out_c);
    for (int c = 0; c < g.out_c; ++c) {
      // Biases from small to near the int32 limits (the reference's sum must not overflow).
      const int bits = std::uniform_int_distribution<int>(0, 30)(rng);
      const int64_t limit = int64_t{1} << bits;
      bias[c] = static_cast<int32_t>(std::uniform_int_distribution<int64_t>(-limit, limit)(rng));
      // Q31 multipliers in [2^30, 2^31) (or 0) and every shift the reference accepts.
      multiplier[c] = c == 0 ? 0 : std::uniform_int_distribution<int32_t>(1 << 30, INT32_MAX)(rng);
      shift[c] = std::uniform_int_distribution<int>(-31, 31)(rng);
    }
    bias[1] = INT32_MAX - 10;
    bias[2] = INT32_MIN + 10;
    S8Requant q;
    q.input_offset = 0;
    q.output_offset = std::uniform_int_distribution<int>(-128, 127)(rng);
    q.multiplier = multiplier.data();
    q.shift = shift.data();
    std::vector<int8_t> expected(g.out_w * g.out_c), got;
    ref::s8_conv2d(g, q, input.data(), filter.data(), bias.data(), expected.data());
    auto kernel = MakeFastS8Conv2d(g, q, filter.data(), bias.data());
    ASSERT_NE(kernel, nullptr);
    RunWithGuards(*kernel, input.data(), expected.size(), 1, got);
    int mismatches = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      const int c = static_cast<int>(i % g.out_c);
      if (got[i] != expected[i] && ++mismatches <= 5)
        ADD_FAILURE() << "acc " << int64_t{bias[c]} + input[i / g.out_c] << " multiplier " << multiplier[c] << " shift " << shift[c]
                      << ": got " << int{got[i]} << ", ref " << int{expected[i]};
    }
    ASSERT_EQ(mismatches, 0);
  }
}

TEST_F(Conv2dFastTest, RefusesWhatItCannotMatch) {
  ConvGeometry g;
  g.in_h = g.in_w = g.out_h = g.out_w = 4;
  g.in_c = g.out_c = 8;
  const std::vector<int8_t> filter(64, 1);
  int32_t multiplier = INT32_MIN, shift = 0;
  S8Requant q;
  q.multiplier = &multiplier;
  q.shift = &shift;
  q.per_tensor = true;
  EXPECT_EQ(MakeFastS8Conv2d(g, q, filter.data(), nullptr), nullptr) << "multiplier INT32_MIN saturates differently";
  multiplier = 1 << 30;
  shift = 32;
  EXPECT_EQ(MakeFastS8Conv2d(g, q, filter.data(), nullptr), nullptr) << "shift out of the reference's range";
  shift = -1;
  q.input_offset = 200;  // zero point -200 is no int8 value
  EXPECT_EQ(MakeFastS8Conv2d(g, q, filter.data(), nullptr), nullptr);
  q.input_offset = 128;
  EXPECT_NE(MakeFastS8Conv2d(g, q, filter.data(), nullptr), nullptr);
}

}  // namespace
}  // namespace personcls
