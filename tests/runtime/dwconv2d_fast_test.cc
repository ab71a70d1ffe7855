// Fast DEPTHWISE_CONV_2D kernels (MakeFastS8DwConv2d / MakeFastF32DwConv2d,
// src/runtime/x86/) against ref::s8_dwconv2d / ref::f32_dwconv2d on randomized data over
// many shapes: int8 must match exactly, float32 within max(1e-5 |ref|, 1e-5); 1 and 2
// threads must agree bit for bit.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "runtime/fast_kernel_tester.h"
#include "runtime/fast_kernels.h"
#include "runtime/ref/ref_kernels.h"
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

// Fluent description of one randomized DEPTHWISE_CONV_2D case:
//   DwConvTester().input(13, 11, 7).multiplier(2).kernel(3, 3).stride(2).TestS8(seed);
class DwConvTester {
 public:
  DwConvTester& batch(int n) {
    g_.batch = n;
    return *this;
  }
  DwConvTester& input(int h, int w, int c) {
    g_.in_h = h;
    g_.in_w = w;
    g_.in_c = c;
    return *this;
  }
  DwConvTester& multiplier(int m) {
    g_.depth_multiplier = m;
    return *this;
  }
  DwConvTester& kernel(int kh, int kw) {
    g_.k_h = kh;
    g_.k_w = kw;
    return *this;
  }
  DwConvTester& stride(int s) { return stride(s, s); }
  DwConvTester& stride(int sh, int sw) {
    g_.stride_h = sh;
    g_.stride_w = sw;
    return *this;
  }
  DwConvTester& dilation(int d) {
    g_.dilation_h = g_.dilation_w = d;
    return *this;
  }
  DwConvTester& same(bool s) {
    same_ = s;
    return *this;
  }
  DwConvTester& per_channel(bool p) {
    per_channel_ = p;
    return *this;
  }
  DwConvTester& bias(bool b) {
    bias_ = b;
    return *this;
  }
  DwConvTester& input_zero_point(int zp) {
    input_zp_ = zp;
    return *this;
  }

  bool Valid() const {
    ConvGeometry g = Geometry();
    return FillGeometry(g, same_);
  }

  void TestS8(uint32_t seed) const {
    ConvGeometry g = Geometry();
    ASSERT_TRUE(FillGeometry(g, same_));
    SCOPED_TRACE(GeometryString(g) + " seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int zp = input_zp_ != kRandomZp ? input_zp_ : std::uniform_int_distribution<int>(-128, 127)(rng);
    const int taps = g.k_h * g.k_w;
    const auto input = RandomInt8(rng, size_t{1} * g.batch * g.in_h * g.in_w * g.in_c);
    const auto filter = RandomInt8(rng, size_t{1} * taps * g.out_c, -127, 127);
    std::vector<int32_t> bias(g.out_c);
    for (auto& b : bias) b = std::uniform_int_distribution<int32_t>(-20000, 20000)(rng);
    RandomRequant rq;
    rq.Generate(rng, g.out_c, !per_channel_, 74.0 * 74.0 * std::sqrt(static_cast<double>(taps)), zp);

    const size_t out_n = size_t{1} * g.batch * g.out_h * g.out_w * g.out_c;
    std::vector<int8_t> expected(out_n);
    ref::s8_dwconv2d(g, rq.q, input.data(), filter.data(), bias_ ? bias.data() : nullptr, expected.data());

    auto kernel = MakeFastS8DwConv2d(g, rq.q, filter.data(), bias_ ? bias.data() : nullptr, /*max_threads=*/3);
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
    ConvGeometry g = Geometry();
    ASSERT_TRUE(FillGeometry(g, same_));
    SCOPED_TRACE(GeometryString(g) + " seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int taps = g.k_h * g.k_w;
    const float w_range = std::sqrt(3.0f / static_cast<float>(taps));
    const auto input = RandomFloat(rng, size_t{1} * g.batch * g.in_h * g.in_w * g.in_c, -1.0f, 1.0f);
    const auto filter = RandomFloat(rng, size_t{1} * taps * g.out_c, -w_range, w_range);
    const auto bias = RandomFloat(rng, g.out_c, -0.5f, 0.5f);
    const F32Clamp clamp = RandomClamp(rng);

    const size_t out_n = size_t{1} * g.batch * g.out_h * g.out_w * g.out_c;
    std::vector<float> expected(out_n);
    ref::f32_dwconv2d(g, clamp, input.data(), filter.data(), bias_ ? bias.data() : nullptr, expected.data());

    auto kernel = MakeFastF32DwConv2d(g, clamp, filter.data(), bias_ ? bias.data() : nullptr, /*max_threads=*/3);
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
  ConvGeometry Geometry() const {
    ConvGeometry g = g_;
    g.out_c = g.in_c * g.depth_multiplier;
    return g;
  }
  ConvGeometry g_;
  bool same_ = true;
  bool per_channel_ = true;
  bool bias_ = true;
  int input_zp_ = kRandomZp;
};

class DwConv2dFastTest : public ::testing::Test {
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
const int kSizes[] = {1, 2, 3, 5, 7, 11, 13};

TEST_F(DwConv2dFastTest, Sweep3x3) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  for (int c : kChannels) {
    for (int size : kSizes) {
      for (int s : {1, 2}) {
        for (bool same : {true, false}) {
          const DwConvTester t =
              DwConvTester().input(size, size + c % 4, c).kernel(3, 3).stride(s).same(same).per_channel(c % 2 == 0);
          if (!t.Valid()) continue;
          t.TestS8(NextSeed());
          t.TestF32(NextSeed());
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_F(DwConv2dFastTest, DepthMultiplierAndBatch) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  for (int c : {1, 3, 8}) {
    for (int m : {1, 2, 3, 8}) {
      for (int n : {1, 2}) {
        for (int s : {1, 2}) {
          const DwConvTester t = DwConvTester().batch(n).input(11, 13, c).multiplier(m).kernel(3, 3).stride(s);
          t.TestS8(NextSeed());
          t.TestF32(NextSeed());
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_F(DwConv2dFastTest, OtherKernelSizesDilationAndStrides) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  struct Case {
    int kh, kw, sh, sw, dilation;
  };
  const Case cases[] = {{1, 1, 1, 1, 1}, {2, 2, 2, 2, 1}, {5, 5, 1, 1, 1}, {5, 5, 2, 2, 1}, {1, 3, 1, 1, 1}, {3, 1, 2, 1, 1},
                        {7, 7, 1, 1, 1}, {3, 3, 1, 1, 2}, {3, 3, 2, 2, 3}, {3, 3, 3, 3, 1}, {9, 1, 1, 1, 1}, {4, 2, 1, 3, 1}};
  for (const Case& c : cases) {
    for (bool same : {true, false}) {
      for (int ch : {5, 16, 17}) {
        const DwConvTester t =
            DwConvTester().input(13, 11, ch).kernel(c.kh, c.kw).stride(c.sh, c.sw).dilation(c.dilation).same(same);
        if (!t.Valid()) continue;
        t.TestS8(NextSeed());
        t.TestF32(NextSeed());
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_F(DwConv2dFastTest, ZeroPointExtremesPerTensorAndNoBias) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  for (int zp : {-128, 127, 0}) {
    for (bool per_channel : {false, true}) {
      for (bool bias : {false, true}) {
        const DwConvTester t =
            DwConvTester().input(7, 5, 9).kernel(3, 3).input_zero_point(zp).per_channel(per_channel).bias(bias);
        t.TestS8(NextSeed());
        if (!bias) t.TestF32(NextSeed());
        if (HasFatalFailure()) return;
      }
    }
  }
}

// The depthwise layers of MLPerf Tiny VWW and TFLM person detection (1 channel, M = 8).
TEST_F(DwConv2dFastTest, ModelLayerShapes) {
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  struct Case {
    int h, c, m, s;
  };
  const Case cases[] = {{48, 8, 1, 1}, {48, 16, 1, 2}, {24, 32, 1, 1}, {24, 32, 1, 2}, {12, 64, 1, 1}, {12, 64, 1, 2},
                        {6, 128, 1, 1}, {6, 128, 1, 2}, {3, 256, 1, 1}, {96, 1, 8, 2}};
  for (const Case& c : cases) {
    const DwConvTester t = DwConvTester().input(c.h, c.h, c.c).multiplier(c.m).kernel(3, 3).stride(c.s);
    t.TestS8(NextSeed());
    t.TestF32(NextSeed());
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace personcls
