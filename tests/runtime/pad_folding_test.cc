// PAD folded into the convolution that reads it (FoldablePad in runtime/runtime.cc): with fast kernels
// the PAD is gone ("pad_folded") and the outputs equal the reference kernels' run of the
// unchanged graph (int8 bit for bit, float32 within 1e-5); PADs that cannot be folded keep
// a kernel (pad_rows) and give the same outputs too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "graph_builder.h"
#include "personcls/default_model.h"
#include "personcls/interpreter.h"
#include "runtime/fast_kernels.h"
#include "test_util.h"

namespace personcls {
namespace {

using ::personcls::testing::GraphBuilder;

// Runs `graph` with fast and reference kernels on `rounds` random inputs and compares every
// output; returns the fast interpreter's kernel names.
std::vector<std::string> CompareFastWithReference(std::shared_ptr<const Graph> graph, uint32_t seed, int rounds = 3) {
  std::vector<std::string> kernels;
  auto fast = Interpreter::Create(graph, {.num_threads = 2, .kernels = KernelSet::kFast});
  auto ref = Interpreter::Create(graph, {.num_threads = 1, .kernels = KernelSet::kReference});
  EXPECT_TRUE(fast.ok()) << fast.status().message();
  EXPECT_TRUE(ref.ok()) << ref.status().message();
  if (!fast.ok() || !ref.ok()) return kernels;
  for (const OpInfo& info : (*fast)->op_infos()) kernels.push_back(info.kernel);
  std::mt19937 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    const TensorDesc& d = (*fast)->input_desc(0);
    std::vector<uint8_t> bytes(d.num_bytes());
    if (d.dtype == DType::kFloat32) {
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      for (size_t k = 0; k + 4 <= bytes.size(); k += 4) {
        const float f = u(rng);
        std::memcpy(&bytes[k], &f, 4);
      }
    } else {
      for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    }
    std::memcpy((*fast)->input_data(0), bytes.data(), bytes.size());
    std::memcpy((*ref)->input_data(0), bytes.data(), bytes.size());
    (*fast)->Invoke();
    (*ref)->Invoke();
    for (int o = 0; o < (*fast)->num_outputs(); ++o) {
      const TensorDesc& od = (*fast)->output_desc(o);
      if (od.dtype == DType::kFloat32) {
        const auto* a = static_cast<const float*>((*fast)->output_data(o));
        const auto* b = static_cast<const float*>((*ref)->output_data(o));
        for (int64_t i = 0; i < od.num_elements(); ++i)
          EXPECT_LE(std::fabs(a[i] - b[i]), std::max(1e-5f * std::fabs(b[i]), 1e-5f)) << "output " << o << " [" << i << "]";
      } else {
        EXPECT_EQ(0, std::memcmp((*fast)->output_data(o), (*ref)->output_data(o), od.num_bytes())) << "output " << o;
      }
    }
  }
  return kernels;
}

// input [1,H,W,C] -> PAD(paddings) -> conv (CONV_2D 3x3 or DEPTHWISE 3x3, stride 2, given
// padding) -> output; more readers of the PAD's output when `second_reader`.
std::shared_ptr<const Graph> PadConvGraph(DType type, OpType conv, std::vector<int32_t> paddings, Padding padding, bool second_reader,
                                          bool pad_is_output, uint32_t seed) {
  std::mt19937 rng(seed);
  GraphBuilder b;
  const int h = 9, w = 11, c = 5, cout = conv == OpType::kConv2D ? 7 : 10;
  const bool q = type == DType::kInt8;
  auto quant = [&](float s) { return q ? std::vector<float>{s} : std::vector<float>{}; };
  auto zps = [&](int zp) { return q ? std::vector<int32_t>{zp} : std::vector<int32_t>{}; };
  const int in = b.Tensor(type, {1, h, w, c}, quant(0.05f), zps(-7));
  const int pads = b.Const<int32_t>(DType::kInt32, {4, 2}, paddings);
  const int ph = h + paddings[2] + paddings[3], pw = w + paddings[4] + paddings[5], pc = c + paddings[6] + paddings[7];
  const int padded = b.Tensor(type, {1, ph, pw, pc}, quant(0.05f), zps(-7));
  const int kin = conv == OpType::kConv2D ? pc : 1;
  const int nw = cout * 9 * kin;
  int filter, bias;
  std::vector<float> wscale(cout);
  for (auto& s : wscale) s = std::uniform_real_distribution<float>(0.002f, 0.02f)(rng);
  if (q) {
    std::vector<int8_t> wv(nw);
    for (auto& v : wv) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-127, 127)(rng));
    std::vector<int32_t> bv(cout);
    for (auto& v : bv) v = std::uniform_int_distribution<int>(-3000, 3000)(rng);
    std::vector<float> bscale(cout);
    for (int k = 0; k < cout; ++k) bscale[k] = 0.05f * wscale[k];
    filter = conv == OpType::kConv2D ? b.Const<int8_t>(DType::kInt8, {cout, 3, 3, pc}, wv, wscale, std::vector<int32_t>(cout, 0), 0)
                                     : b.Const<int8_t>(DType::kInt8, {1, 3, 3, cout}, wv, wscale, std::vector<int32_t>(cout, 0), 3);
    bias = b.Const<int32_t>(DType::kInt32, {cout}, bv, bscale, std::vector<int32_t>(cout, 0));
  } else {
    std::vector<float> wv(nw), bv(cout);
    for (auto& v : wv) v = std::uniform_real_distribution<float>(-0.3f, 0.3f)(rng);
    for (auto& v : bv) v = std::uniform_real_distribution<float>(-0.5f, 0.5f)(rng);
    filter = b.Const<float>(DType::kFloat32, conv == OpType::kConv2D ? std::vector<int32_t>{cout, 3, 3, pc} : std::vector<int32_t>{1, 3, 3, cout}, wv);
    bias = b.Const<float>(DType::kFloat32, {cout}, bv);
  }
  OpOptions o;
  o.padding = padding;
  o.stride_h = o.stride_w = 2;
  o.activation = Activation::kRelu;
  if (conv == OpType::kDepthwiseConv2D) o.depth_multiplier = cout / pc;
  const int oh = padding == Padding::kSame ? (ph + 1) / 2 : (ph - 3) / 2 + 1;
  const int ow = padding == Padding::kSame ? (pw + 1) / 2 : (pw - 3) / 2 + 1;
  const int out = b.Tensor(type, {1, oh, ow, cout}, quant(0.1f), zps(3));
  b.Op(OpType::kPad, {in, pads}, {padded}).Op(conv, {padded, filter, bias}, {out}, o);
  std::vector<int> outputs{out};
  if (second_reader) {
    const int out2 = b.Tensor(type, {1, oh, ow, cout}, quant(0.1f), zps(3));
    b.Op(conv, {padded, filter, bias}, {out2}, o);
    outputs.push_back(out2);
  }
  if (pad_is_output) outputs.push_back(padded);
  b.Inputs({in}).Outputs(outputs);
  return b.Build();
}

class PadFoldingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CpuHasAvx2Fma()) GTEST_SKIP() << "CPU without AVX2/FMA: no fast kernels";
  }
};

TEST_F(PadFoldingTest, FoldsIntoValidConvAndDepthwise) {
  const uint32_t seed = ::personcls::testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  for (DType type : {DType::kInt8, DType::kFloat32}) {
    for (OpType conv : {OpType::kConv2D, OpType::kDepthwiseConv2D}) {
      // Asymmetric padding, more than a SAME conv would add, and none at the start.
      for (const std::vector<int32_t>& p : {std::vector<int32_t>{0, 0, 1, 2, 2, 1, 0, 0}, std::vector<int32_t>{0, 0, 0, 1, 3, 0, 0, 0}}) {
        const auto kernels = CompareFastWithReference(PadConvGraph(type, conv, p, Padding::kValid, false, false, seed), seed);
        ASSERT_EQ(kernels.size(), 2u);
        EXPECT_EQ(kernels[0], "pad_folded") << DTypeName(type) << " " << OpTypeName(conv);
        EXPECT_NE(kernels[1].find("avx2"), std::string::npos) << kernels[1];
      }
    }
  }
}

TEST_F(PadFoldingTest, KeepsPadsItCannotFold) {
  const uint32_t seed = ::personcls::testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  const std::vector<int32_t> spatial{0, 0, 1, 1, 1, 1, 0, 0}, channels{0, 0, 1, 1, 1, 1, 0, 3};
  struct Case {
    const char* what;
    std::vector<int32_t> paddings;
    Padding padding;
    bool second_reader, pad_is_output;
  };
  const Case cases[] = {{"SAME conv", spatial, Padding::kSame, false, false},
                        {"two readers", spatial, Padding::kValid, true, false},
                        {"graph output", spatial, Padding::kValid, false, true},
                        {"channel padding", channels, Padding::kValid, false, false}};
  for (DType type : {DType::kInt8, DType::kFloat32}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(c.what) + " " + DTypeName(type));
      const auto kernels =
          CompareFastWithReference(PadConvGraph(type, OpType::kConv2D, c.paddings, c.padding, c.second_reader, c.pad_is_output, seed), seed);
      ASSERT_FALSE(kernels.empty());
      EXPECT_EQ(kernels[0], type == DType::kInt8 ? "s8_pad_rows" : "f32_pad_rows");
    }
  }
}

// The embedded default model has three PADs before stride-2 convolutions: all fold, and
// the fast kernels give the reference kernels' outputs bit for bit.
TEST_F(PadFoldingTest, DefaultModelFoldsEveryPadAndStaysBitExact) {
  const uint32_t seed = ::personcls::testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  auto graph = LoadDefaultModel();
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  int pads = 0;
  for (const OpDesc& op : (*graph)->ops) pads += op.type == OpType::kPad;
  ASSERT_GT(pads, 0);
  const auto kernels = CompareFastWithReference(*graph, seed, 5);
  int folded = 0;
  for (const std::string& k : kernels) folded += k == "pad_folded";
  EXPECT_EQ(folded, pads);
  // Without the PAD copies and the whole-input int16 scratch, the fast arena stays within
  // 25 % of the reference kernels' (issue 16).
  auto fast = Interpreter::Create(*graph, {.num_threads = 2, .kernels = KernelSet::kFast});
  auto ref = Interpreter::Create(*graph, {.num_threads = 1, .kernels = KernelSet::kReference});
  ASSERT_TRUE(fast.ok() && ref.ok());
  EXPECT_LE((*fast)->arena_bytes(), (*ref)->arena_bytes() * 5 / 4);
}

}  // namespace
}  // namespace personcls
