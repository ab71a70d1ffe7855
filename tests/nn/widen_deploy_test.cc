// Widening a narrow pretrained network (nn/widen_deploy.h): the wide network computes the
// narrow one's function, every layer of the wide one is really used, and impossible
// widenings are refused.
#include "nn/widen_deploy.h"

#include <cmath>
#include <memory>
#include <random>

#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "test_util.h"

namespace personcls {
namespace {

// Random deploy weights of `spec` with a head: weights ~ N(0, sqrt(2 / fan_in)) so that
// activations neither vanish nor explode over 8 layers, biases small.
PretrainedDeploy RandomDeploy(const ArchSpec& spec, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  PretrainedDeploy p;
  p.weights = ZeroDeployWeights(spec, classes);
  p.has_head = true;
  auto fill = [&rng](DeployWeights::Conv& c, int in_c) {
    std::normal_distribution<float> w(0.0f, std::sqrt(2.0f / (9.0f * in_c))), b(0.0f, 0.1f);
    for (float& x : c.weight) x = w(rng);
    for (float& x : c.bias) x = b(rng);
  };
  fill(p.weights.stem, spec.stem.in_c);
  for (size_t i = 0; i < spec.blocks.size(); ++i) fill(p.weights.blocks[i], spec.blocks[i].in_c);
  std::normal_distribution<float> f(0.0f, 1.0f);
  for (float& x : p.weights.fc_weight) x = f(rng);
  for (float& x : p.weights.fc_bias) x = f(rng) * 0.1f;
  return p;
}

// Softmax outputs [N * K] of the deploy graph of `w` on N random images (seeded).
std::vector<float> RunDeploy(const ArchConfig& config, const DeployWeights& w, int n, uint64_t seed) {
  auto graph = BuildDeployGraph(config, w);
  EXPECT_TRUE(graph.ok()) << graph.status().message();
  auto it = Interpreter::Create(std::make_shared<Graph>(std::move(graph).value()), {.kernels = KernelSet::kReference});
  EXPECT_TRUE(it.ok());
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> px(0, 255);
  const int size = config.input_size, k = config.num_classes;
  std::vector<float> out;
  for (int i = 0; i < n; ++i) {
    float* in = static_cast<float*>((*it)->input_data(0));
    for (int j = 0; j < size * size * 3; ++j) in[j] = static_cast<float>(px(rng)) / 255.0f;
    (*it)->Invoke();
    const float* o = static_cast<const float*>((*it)->output_data(0));
    out.insert(out.end(), o, o + k);
  }
  return out;
}

// Widths 0.35 -> 0.5 / 1.0 add a stage whose stride-2 block keeps the function exactly only
// on a 1x1 map: input 8 gives 4, 4, 2, 1 after stem and stages 1-3.
struct WidenCase {
  const char* narrow;
  const char* wide;
  int input_size;
};

class WidenDeployTest : public ::testing::TestWithParam<WidenCase> {};

TEST_P(WidenDeployTest, WideNetworkComputesTheNarrowOne) {
  ArchConfig narrow = *ArchFromName(GetParam().narrow), wide = *ArchFromName(GetParam().wide);
  narrow.input_size = wide.input_size = GetParam().input_size;
  narrow.num_classes = wide.num_classes = 3;  // odd, so a swapped class would show
  const ArchSpec ns = *DescribeArch(narrow), ws = *DescribeArch(wide);
  const PretrainedDeploy p = RandomDeploy(ns, 3, 7);
  auto w = WidenDeploy(narrow, wide, p, 5);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_TRUE(w->has_head);
  EXPECT_EQ(w->weights.stem.weight.size(), static_cast<size_t>(ws.stem.out_c) * 9 * 3);
  EXPECT_EQ(w->weights.fc_weight.size(), static_cast<size_t>(3) * ws.feature_channels);
  const std::vector<float> a = RunDeploy(narrow, p.weights, 5, 9), b = RunDeploy(wide, w->weights, 5, 9);
  ASSERT_EQ(a.size(), b.size());
  // Not a trivial network: the 5 images get different outputs.
  EXPECT_GT(std::fabs(a[0] - a[3]) + std::fabs(a[3] - a[6]), 1e-3f);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b[i], a[i], 1e-5f) << "probability " << i;
  // The extra channels are copies that contribute: silencing the added channels of the
  // first block that has some changes the output.
  DeployWeights cut = w->weights;
  size_t first = 0;
  while (first < ns.blocks.size() && ws.blocks[first].out_c == ns.blocks[first].out_c) ++first;
  ASSERT_LT(first, ns.blocks.size());
  for (int j = ns.blocks[first].out_c; j < ws.blocks[first].out_c; ++j)
    cut.blocks[first].bias[static_cast<size_t>(j)] = -1e3f;  // ReLU gives 0
  const std::vector<float> c = RunDeploy(wide, cut, 5, 9);
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += std::fabs(c[i] - a[i]);
  EXPECT_GT(diff, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Widths, WidenDeployTest,
                         ::testing::Values(WidenCase{"mbv2-rep-0.35", "mbv2-rep-0.5", 8}, WidenCase{"mbv2-rep-0.35", "mbv2-rep-1.0", 8},
                                         WidenCase{"mbv2-rep-0.5", "mbv2-rep-1.0", 33}),
                         [](const ::testing::TestParamInfo<WidenCase>& i) {
                           std::string s = std::string(i.param.narrow).substr(9) + "_to_" + std::string(i.param.wide).substr(9);
                           for (char& ch : s) ch = ch == '.' ? 'p' : ch;
                           return s;
                         });

TEST(WidenDeploy, NarrowingIsRefused) {
  const ArchConfig narrow = *ArchFromName("mbv2-rep-0.35"), wide = *ArchFromName("mbv2-rep-0.5");
  const PretrainedDeploy p = RandomDeploy(*DescribeArch(wide), 2, 1);
  auto w = WidenDeploy(wide, narrow, p, 1);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("cannot widen mbv2-rep-0.5 to mbv2-rep-0.35: it is shallower"), std::string::npos) << w.status().message();
}

TEST(WidenDeploy, GraphOfANarrowerWidthIsReadAndWidened) {
  const ArchConfig narrow = *ArchFromName("mbv2-rep-0.35"), wide = *ArchFromName("mbv2-rep-0.5");
  const PretrainedDeploy p = RandomDeploy(*DescribeArch(narrow), 2, 3);
  auto graph = BuildDeployGraph(narrow, p.weights);
  ASSERT_TRUE(graph.ok());
  auto start = ReadDeployWeightsForWidth(wide, *graph, "narrow.tflite", 4);
  ASSERT_TRUE(start.ok()) << start.status().message();
  EXPECT_EQ(start->source_arch, "mbv2-rep-0.35");
  EXPECT_EQ(RunDeploy(wide, start->deploy.weights, 2, 1).size(), 4u);
  auto same = ReadDeployWeightsForWidth(narrow, *graph, "narrow.tflite", 4);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->source_arch, "mbv2-rep-0.35");
  EXPECT_EQ(same->deploy.weights.stem.weight, p.weights.stem.weight);
  // A wider graph cannot start a narrower student: the error names the file and the layer.
  const PretrainedDeploy q = RandomDeploy(*DescribeArch(wide), 2, 3);
  auto wide_graph = BuildDeployGraph(wide, q.weights);
  ASSERT_TRUE(wide_graph.ok());
  auto refused = ReadDeployWeightsForWidth(narrow, *wide_graph, "wide.tflite", 4);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("wide.tflite: convolution 2 (layer2.0)"), std::string::npos) << refused.status().message();
}

}  // namespace
}  // namespace personcls
