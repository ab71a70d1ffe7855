// Grad-CAM: head planning, the head's forward against the runtime, its gradient against
// central finite differences, and the CAM against the closed form of a GAP + FC head.
#include "explain/gradcam.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "graph_builder.h"
#include "personcls/interpreter.h"
#include "test_util.h"

namespace personcls::explain {
namespace {

using testing::GraphBuilder;

std::vector<float> Random(std::mt19937& rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// input [1,7,5,2] -> CONV_2D 3x3 SAME stride 1, RELU -> A [1,7,5,3] -> head(A).
enum class HeadKind {
  kMeanFcSoftmax,         // MEAN(1,2) -> FC(3->2) -> SOFTMAX
  kMeanFcReluFcSoftmax,   // MEAN(1,2) -> FC(3->4, RELU) -> FC(4->2) -> SOFTMAX
  kPoolConvReshapeLogistic,  // AVERAGE_POOL_2D 7x5 -> CONV 1x1 (3->1) -> RESHAPE [1,1] -> LOGISTIC
  kPoolSameFc,            // AVERAGE_POOL_2D 3x3 stride 2 SAME -> RESHAPE [1,36] -> FC(36->3), no activation at the end
};

struct TinyNet {
  std::shared_ptr<const Graph> graph;
  std::vector<float> fc_weights;  // of the first FC (kMeanFcSoftmax: [2,3])
};

TinyNet BuildTinyNet(HeadKind kind, uint32_t seed) {
  std::mt19937 rng(seed);
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 7, 5, 2});
  const int conv_w = b.Const(DType::kFloat32, {3, 3, 3, 2}, Random(rng, 54));
  const int conv_b = b.Const(DType::kFloat32, {3}, Random(rng, 3, 0.1f, 0.5f));
  const int a = b.Tensor(DType::kFloat32, {1, 7, 5, 3});
  OpOptions conv;
  conv.padding = Padding::kSame;
  conv.activation = Activation::kRelu;
  b.Op(OpType::kConv2D, {in, conv_w, conv_b}, {a}, conv);
  TinyNet net;
  int out = -1;
  auto fc = [&](int x, int depth, int units, Activation act) {
    std::vector<float> w = Random(rng, static_cast<size_t>(depth) * units);
    if (net.fc_weights.empty()) net.fc_weights = w;
    const int wt = b.Const(DType::kFloat32, {units, depth}, w);
    const int bt = b.Const(DType::kFloat32, {units}, Random(rng, units));
    const int y = b.Tensor(DType::kFloat32, {1, units});
    OpOptions o;
    o.activation = act;
    b.Op(OpType::kFullyConnected, {x, wt, bt}, {y}, o);
    return y;
  };
  auto softmax = [&](int x, int n) {
    const int y = b.Tensor(DType::kFloat32, {1, n});
    b.Op(OpType::kSoftmax, {x}, {y});
    return y;
  };
  auto mean = [&]() {
    const int axes = b.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 2});
    const int m = b.Tensor(DType::kFloat32, {1, 3});
    b.Op(OpType::kMean, {a, axes}, {m});
    return m;
  };
  switch (kind) {
    case HeadKind::kMeanFcSoftmax:
      out = softmax(fc(mean(), 3, 2, Activation::kNone), 2);
      break;
    case HeadKind::kMeanFcReluFcSoftmax:
      out = softmax(fc(fc(mean(), 3, 4, Activation::kRelu), 4, 2, Activation::kNone), 2);
      break;
    case HeadKind::kPoolConvReshapeLogistic: {
      const int pooled = b.Tensor(DType::kFloat32, {1, 1, 1, 3});
      OpOptions pool;
      pool.filter_h = 7;
      pool.filter_w = 5;
      b.Op(OpType::kAveragePool2D, {a}, {pooled}, pool);
      const int w = b.Const(DType::kFloat32, {1, 1, 1, 3}, Random(rng, 3));
      const int bias = b.Const(DType::kFloat32, {1}, Random(rng, 1));
      const int z4 = b.Tensor(DType::kFloat32, {1, 1, 1, 1});
      b.Op(OpType::kConv2D, {pooled, w, bias}, {z4});
      const int shape = b.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 1});
      const int z = b.Tensor(DType::kFloat32, {1, 1});
      b.Op(OpType::kReshape, {z4, shape}, {z});
      out = b.Tensor(DType::kFloat32, {1, 1});
      b.Op(OpType::kLogistic, {z}, {out});
      break;
    }
    case HeadKind::kPoolSameFc: {
      const int pooled = b.Tensor(DType::kFloat32, {1, 4, 3, 3});
      OpOptions pool;
      pool.filter_h = pool.filter_w = 3;
      pool.stride_h = pool.stride_w = 2;
      pool.padding = Padding::kSame;
      b.Op(OpType::kAveragePool2D, {a}, {pooled}, pool);
      const int shape = b.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 36});
      const int flat = b.Tensor(DType::kFloat32, {1, 36});
      b.Op(OpType::kReshape, {pooled, shape}, {flat});
      out = fc(flat, 36, 3, Activation::kNone);
      break;
    }
  }
  b.Inputs({in}).Outputs({out});
  net.graph = b.Build();
  return net;
}

class GradCamHeads : public ::testing::TestWithParam<HeadKind> {};

TEST_P(GradCamHeads, PlansTheHeadAfterTheLastSpatialConv) {
  const TinyNet net = BuildTinyNet(GetParam(), 1);
  auto plan = PlanHead(*net.graph);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->feature_op, 0);
  EXPECT_EQ(plan->feature_tensor, net.graph->ops[0].outputs[0]);
  EXPECT_EQ(plan->ops.size(), net.graph->ops.size() - 1);
  EXPECT_EQ(plan->ends_in_activation, GetParam() != HeadKind::kPoolSameFc);
}

TEST_P(GradCamHeads, HeadForwardEqualsTheRuntime) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  const TinyNet net = BuildTinyNet(GetParam(), seed);
  auto full = Interpreter::Create(net.graph, {.kernels = KernelSet::kReference});
  auto cam = GradCam::Create(net.graph, {.kernels = KernelSet::kReference});
  ASSERT_TRUE(full.ok() && cam.ok());
  std::mt19937 rng(seed + 7);
  const std::vector<float> input = Random(rng, 70);
  std::memcpy((*full)->input_data(0), input.data(), input.size() * sizeof(float));
  std::memcpy((*cam)->input_data(), input.data(), input.size() * sizeof(float));
  (*full)->Invoke();
  const GradCamResult r = (*cam)->Explain(-1, CamScore::kProbability);
  const auto* expected = static_cast<const float*>((*full)->output_data(0));
  const int64_t n = (*full)->output_desc(0).num_elements();
  ASSERT_EQ(static_cast<int64_t>(r.scores.size()), n == 1 ? 2 : n);
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(r.scores[n == 1 ? 1 : i], expected[i], 1e-5 * (1 + std::fabs(expected[i]))) << i;
  if (n == 1) {
    EXPECT_NEAR(r.scores[0], 1.0 - expected[0], 1e-5);
  }
  EXPECT_EQ(r.cls, static_cast<int>(std::max_element(r.scores.begin(), r.scores.end()) - r.scores.begin()));
}

TEST_P(GradCamHeads, GradientMatchesCentralDifferences) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  const TinyNet net = BuildTinyNet(GetParam(), seed);
  auto plan = PlanHead(*net.graph);
  ASSERT_TRUE(plan.ok());
  const Head head(*net.graph, *plan);
  std::mt19937 rng(seed + 11);
  const std::vector<float> a = Random(rng, 7 * 5 * 3, 0.0f, 2.0f);
  for (CamScore mode : {CamScore::kLogit, CamScore::kProbability}) {
    for (int cls = 0; cls < head.num_classes(); ++cls) {
      SCOPED_TRACE(::testing::Message() << "mode=" << static_cast<int>(mode) << " class=" << cls);
      const std::vector<double> grad = head.Gradient(a.data(), cls, mode);
      ASSERT_EQ(grad.size(), a.size());
      const float h = 1e-2f;
      for (size_t i = 0; i < a.size(); ++i) {
        std::vector<float> plus = a, minus = a;
        plus[i] += h;
        minus[i] -= h;
        const double step = static_cast<double>(plus[i]) - static_cast<double>(minus[i]);  // as stored in float
        const double fd = (head.Scores(plus.data(), mode)[cls] - head.Scores(minus.data(), mode)[cls]) / step;
        EXPECT_NEAR(grad[i], fd, 1e-4 + 1e-3 * std::fabs(fd)) << "element " << i;
      }
    }
  }
}

std::string HeadName(const ::testing::TestParamInfo<HeadKind>& info) {
  static const char* const kNames[] = {"MeanFcSoftmax", "MeanFcReluFcSoftmax", "PoolConvReshapeLogistic", "PoolSameFc"};
  return kNames[static_cast<int>(info.param)];
}

INSTANTIATE_TEST_SUITE_P(Heads, GradCamHeads,
                         ::testing::Values(HeadKind::kMeanFcSoftmax, HeadKind::kMeanFcReluFcSoftmax, HeadKind::kPoolConvReshapeLogistic,
                                           HeadKind::kPoolSameFc),
                         HeadName);

// For A -> global average -> FC -> (softmax), the logit gradient is W[c,k] / (H W) at
// every position, so CAM_c = ReLU(sum_k W[c,k] A_k) / max.
TEST(GradCam, GapFcCamEqualsClosedForm) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  const TinyNet net = BuildTinyNet(HeadKind::kMeanFcSoftmax, seed);
  auto cam = GradCam::Create(net.graph, {.kernels = KernelSet::kReference});
  ASSERT_TRUE(cam.ok());
  std::mt19937 rng(seed + 3);
  const std::vector<float> input = Random(rng, 70);
  std::memcpy((*cam)->input_data(), input.data(), input.size() * sizeof(float));
  for (int cls = 0; cls < 2; ++cls) {
    const GradCamResult r = (*cam)->Explain(cls, CamScore::kLogit);
    ASSERT_EQ(r.height * r.width, 35);
    ASSERT_EQ(r.channels, 3);
    std::vector<double> closed(35);
    double top = 0.0;
    for (int p = 0; p < 35; ++p) {
      for (int k = 0; k < 3; ++k) closed[p] += net.fc_weights[cls * 3 + k] * r.feature[p * 3 + k];
      closed[p] = std::max(closed[p], 0.0);
      top = std::max(top, closed[p]);
    }
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(r.weights[k], net.fc_weights[cls * 3 + k] / 35.0, 1e-9);
    for (int p = 0; p < 35; ++p) EXPECT_NEAR(r.cam[p], top > 0 ? closed[p] / top : 0.0, 1e-6) << p;
    if (top > 0) {
      EXPECT_FLOAT_EQ(*std::max_element(r.cam.begin(), r.cam.end()), 1.0f);
    }
  }
}

TEST(GradCam, CamOfNegativeEvidenceIsAllZero) {
  // Every weight negative on a non-negative feature map: ReLU removes everything.
  std::vector<float> feature(4 * 2, 1.0f);
  std::vector<double> gradient(4 * 2, -0.5), weights;
  std::vector<float> cam;
  ComputeCam(feature, gradient, 2, 2, 2, &weights, &cam);
  EXPECT_EQ(weights, std::vector<double>(2, -0.5));
  EXPECT_EQ(cam, std::vector<float>(4, 0.0f));
}

TEST(GradCam, RejectsGraphsItCannotExplain) {
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 4});
  const int out = b.Tensor(DType::kFloat32, {1, 4});
  b.Op(OpType::kSoftmax, {in}, {out}).Inputs({in}).Outputs({out});
  auto plan = PlanHead(*b.Build());
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("no CONV_2D/DEPTHWISE_CONV_2D"), std::string::npos) << plan.status().message();

  // A MAX_POOL_2D after the feature map has no backward rule here.
  GraphBuilder c;
  const int x = c.Tensor(DType::kFloat32, {1, 4, 4, 1});
  const int w = c.Const(DType::kFloat32, {1, 1, 1, 1}, std::vector<float>{1.0f});
  const int a = c.Tensor(DType::kFloat32, {1, 4, 4, 1});
  const int m = c.Tensor(DType::kFloat32, {1, 1, 1, 1});
  OpOptions pool;
  pool.filter_h = pool.filter_w = 4;
  c.Op(OpType::kConv2D, {x, w, -1}, {a}).Op(OpType::kMaxPool2D, {a}, {m}, pool).Inputs({x}).Outputs({m});
  plan = PlanHead(*c.Build());
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("op 1 (MAX_POOL_2D)"), std::string::npos) << plan.status().message();
}

}  // namespace
}  // namespace personcls::explain
