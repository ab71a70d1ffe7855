// Unfusing a deploy network into the train form (nn/rep_unfuse.h): the train form started
// from deploy weights computes the deploy network, weights read back from a graph are the
// ones it was built from, and int8 graphs (SSCMA's CIFAR-10 model) are dequantized.
#include "nn/rep_unfuse.h"

#include <cmath>
#include <random>

#include "nn/trainer.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "personcls/rep_fusion.h"
#include "test_util.h"

namespace personcls {
namespace {

// A train form with random convs and random BN affine parameters and statistics, so that
// its fused deploy weights are nothing like an identity.
StateDict RandomTrainState(Mbv2RepModel& model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  InitSscmaParameters(model, rng);
  StateDict sd = model.ToStateDict();
  std::uniform_real_distribution<float> u(0.5f, 1.5f), v(-0.2f, 0.2f);
  for (auto& [name, values] : sd) {
    const bool bn_scale = name.find("norm") != std::string::npos && (name.ends_with(".weight") || name.ends_with(".running_var"));
    const bool bn_shift = name.find("norm") != std::string::npos && (name.ends_with(".bias") || name.ends_with(".running_mean"));
    for (float& x : values) x = bn_scale ? u(rng) : bn_shift ? v(rng) : x;
  }
  for (float& x : sd.at("head.fc.weight")) x = v(rng) * 5.0f;
  return sd;
}

// The float deploy graph of a random train form of `config`.
Graph RandomDeployGraph(const ArchConfig& config, uint64_t seed) {
  Mbv2RepModel source(config);
  auto deploy = FuseStateDict(source.spec(), config.num_classes, RandomTrainState(source, seed));
  EXPECT_TRUE(deploy.ok());
  auto graph = BuildDeployGraph(config, *deploy);
  EXPECT_TRUE(graph.ok());
  return std::move(graph).value();
}

Tensor RandomImages(int n, int size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> px(0, 255);
  Tensor t({n, size, size, 3});
  for (float& x : t.data) x = static_cast<float>(px(rng)) / 255.0f;
  return t;
}

std::vector<float> Softmax(const float* z, int k) {
  std::vector<float> p(z, z + k);
  const float m = *std::max_element(p.begin(), p.end());
  float s = 0;
  for (float& x : p) s += x = std::exp(x - m);
  for (float& x : p) x /= s;
  return p;
}

// The deploy graph of `w` run on every image of `x`: probabilities [N, K].
std::vector<float> RunDeploy(const ArchConfig& config, const DeployWeights& w, const Tensor& x) {
  auto graph = BuildDeployGraph(config, w);
  EXPECT_TRUE(graph.ok()) << graph.status().message();
  auto it = Interpreter::Create(std::make_shared<Graph>(std::move(graph).value()), {.kernels = KernelSet::kReference});
  EXPECT_TRUE(it.ok());
  const int n = x.shape[0], k = config.num_classes;
  const size_t image = x.data.size() / n;
  std::vector<float> out(static_cast<size_t>(n) * k);
  for (int i = 0; i < n; ++i) {
    std::copy_n(x.data.begin() + static_cast<std::ptrdiff_t>(i * image), image, static_cast<float*>((*it)->input_data(0)));
    (*it)->Invoke();
    std::copy_n(static_cast<const float*>((*it)->output_data(0)), k, out.begin() + static_cast<std::ptrdiff_t>(i) * k);
  }
  return out;
}

TEST(RepUnfuse, TrainFormStartedFromDeployWeightsComputesTheDeployNetwork) {
  const ArchConfig config = *ArchFromName("mbv2-rep-0.35");
  Mbv2RepModel source(config);
  auto deploy = FuseStateDict(source.spec(), 2, RandomTrainState(source, 11));
  ASSERT_TRUE(deploy.ok()) << deploy.status().message();
  auto graph = BuildDeployGraph(config, *deploy);
  ASSERT_TRUE(graph.ok());
  auto read = ReadDeployWeights(config, *graph, "deploy");
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_TRUE(read->has_head);
  EXPECT_EQ(read->weights.stem.weight, deploy->stem.weight);
  for (size_t b = 0; b < deploy->blocks.size(); ++b) {
    EXPECT_EQ(read->weights.blocks[b].weight, deploy->blocks[b].weight) << b;
    EXPECT_EQ(read->weights.blocks[b].bias, deploy->blocks[b].bias) << b;
  }

  // 13 images: odd, so no symmetry hides a wrong statistic; 13 * 3 * 3 rows at layer3.
  const Tensor calib = RandomImages(13, 96, 5);
  Mbv2RepModel student(config);
  std::mt19937_64 rng(3);
  InitSscmaParameters(student, rng);
  InitFromDeploy(student, *read, calib);
  const std::vector<float> expected = RunDeploy(config, *deploy, calib);
  // Train mode on the calibration batch: exact up to float rounding and BN's eps.
  const Tensor logits_train = student.Forward(calib, true);
  for (int i = 0; i < 13; ++i) {
    const std::vector<float> p = Softmax(logits_train.ptr() + 2 * i, 2);
    for (int k = 0; k < 2; ++k) EXPECT_NEAR(p[k], expected[2 * i + k], 2e-3) << "train mode, image " << i;
  }
  // Eval mode uses the running statistics, which are the calibration batch's (unbiased
  // variance, so slightly larger than what train mode divides by).
  const Tensor logits_eval = student.Forward(calib, false);
  for (int i = 0; i < 13; ++i) {
    const std::vector<float> p = Softmax(logits_eval.ptr() + 2 * i, 2);
    for (int k = 0; k < 2; ++k) EXPECT_NEAR(p[k], expected[2 * i + k], 2e-2) << "eval mode, image " << i;
  }
  // The added 1x1 branches contribute nothing yet but are trainable: their BN weights get
  // gradients.
  Tensor dlogits({13, 2});
  for (int i = 0; i < 13; ++i) dlogits.data[2 * i] = 1.0f, dlogits.data[2 * i + 1] = -1.0f;
  student.Forward(calib, true);
  student.Backward(dlogits);
  const StateDict grads = student.GradStateDict();
  double g = 0;
  for (float x : grads.at("backbone.layer3.2.conv.0.norm.weight")) g += std::fabs(x);
  EXPECT_GT(g, 0.0);
}

TEST(RepUnfuse, HeadIsKeptWhenTheClassesDiffer) {
  const ArchConfig config = *ArchFromName("mbv2-rep-0.35");
  ArchConfig ten = config;
  ten.num_classes = 10;
  auto read = ReadDeployWeights(config, RandomDeployGraph(ten, 2), "ten.tflite");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_FALSE(read->has_head);
  Mbv2RepModel student(config);
  std::mt19937_64 rng(3);
  InitSscmaParameters(student, rng);
  const std::vector<float> head = student.ToStateDict().at("head.fc.weight");
  InitFromDeploy(student, *read, RandomImages(4, 96, 1));
  EXPECT_EQ(student.ToStateDict().at("head.fc.weight"), head);
}

TEST(RepUnfuse, OtherArchitecturesAreRefusedWithTheFileAndTheLayer) {
  const ArchConfig w035 = *ArchFromName("mbv2-rep-0.35");
  const ArchConfig w050 = *ArchFromName("mbv2-rep-0.5");
  auto read = ReadDeployWeights(w035, RandomDeployGraph(w050, 1), "w050.tflite");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("w050.tflite: convolution 2 (layer2.0): filter [32, 3, 3, 16], expected [16, 3, 3, 16]"), std::string::npos)
      << read.status().message();
}

TEST(RepUnfuse, SscmaCifarModelIsDequantizedAndRunsAsItsInt8Self) {
  PCLS_REQUIRE_SHARED("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite");
  const std::string path = testing::SharedPath("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite");
  auto int8 = LoadModelFile(path);
  ASSERT_TRUE(int8.ok()) << int8.status().message();
  ArchConfig config = *ArchFromName("mbv2-rep-0.35");
  EXPECT_FALSE(ReadDeployWeights(config, **int8, path)->has_head);  // 10 classes, the student 2
  config.num_classes = 10;
  config.input_size = 32;
  auto read = ReadDeployWeights(config, **int8, path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_TRUE(read->has_head);
  // The float network of the dequantized weights agrees with the int8 model itself.
  const Tensor x = RandomImages(20, 32, 9);
  const std::vector<float> fp = RunDeploy(config, read->weights, x);
  auto it = Interpreter::Create(*int8, {.kernels = KernelSet::kReference});
  ASSERT_TRUE(it.ok());
  const TensorDesc& out = (*int8)->tensors[(*int8)->outputs[0]];
  double sum_diff = 0;
  int same_top1 = 0;
  for (int i = 0; i < 20; ++i) {
    int8_t* in = static_cast<int8_t*>((*it)->input_data(0));
    for (int j = 0; j < 32 * 32 * 3; ++j) in[j] = static_cast<int8_t>(std::lround(x.data[i * 32 * 32 * 3 + j] * 255.0f) - 128);
    (*it)->Invoke();
    const int8_t* q = static_cast<const int8_t*>((*it)->output_data(0));
    for (int k = 0; k < 10; ++k) sum_diff += std::fabs(out.quant.scale[0] * (q[k] - out.quant.zero_point[0]) - fp[i * 10 + k]);
    same_top1 += std::max_element(q, q + 10) - q == std::max_element(&fp[i * 10], &fp[i * 10] + 10) - &fp[i * 10];
  }
  // int8 rounds every activation, so the two differ a little, on average and in argmax.
  EXPECT_LT(sum_diff / 200, 0.02) << "mean |int8 - float| probability";
  EXPECT_GE(same_top1, 18);
}

}  // namespace
}  // namespace personcls
