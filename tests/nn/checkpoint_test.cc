// Checkpoints as runnable models: architecture inference and the fused deploy graph.
#include <cmath>

#include "formats/pth/pth_reader.h"
#include "formats/safetensors/safetensors.h"
#include "personcls/checkpoint.h"
#include "personcls/interpreter.h"
#include "test_util.h"
#include "twin_util.h"

namespace personcls {
namespace {

using testing::TwinPath;

safetensors::File TwinCheckpoint() {
  auto twin = safetensors::ReadFile(TwinPath("forward_w035.safetensors"));
  EXPECT_TRUE(twin.ok()) << twin.status().message();
  safetensors::File ckpt;
  for (const auto& [name, t] : twin->tensors)
    if (name.rfind("param.", 0) == 0) ckpt.tensors[name.substr(6)] = t;
  return ckpt;
}

TEST(Checkpoint, InfersArchitectureFromShapes) {
  StateDict state;
  for (const auto& [name, t] : TwinCheckpoint().tensors) state[name] = t.AsFloat();
  auto arch = InferArch(state, std::nullopt);
  ASSERT_TRUE(arch.ok()) << arch.status().message();
  EXPECT_EQ(arch->name, "mbv2-rep-0.35");
  EXPECT_EQ(arch->num_classes, 2);
  EXPECT_FALSE(arch->gray);
  auto wrong = InferArch(state, std::string("mbv2-rep-1.0"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("do not match --arch mbv2-rep-1.0"), std::string::npos);
  state.erase("head.fc.bias");
  EXPECT_FALSE(InferArch(state, std::nullopt).ok());
}

TEST(Checkpoint, SafetensorsFileRunsAsFusedModel) {
  safetensors::File ckpt = TwinCheckpoint();
  ckpt.metadata["input_size"] = "32";
  ckpt.metadata["labels"] = "no,yes";
  const std::string path = testing::TempDir() + "/model.safetensors";
  ASSERT_TRUE(safetensors::WriteFile(path, ckpt).ok());
  auto graph = LoadCheckpointGraph(path, std::nullopt);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ((*graph)->tensors[(*graph)->inputs[0]].shape, (std::vector<int32_t>{1, 32, 32, 3}));
  EXPECT_EQ((*graph)->metadata.at("labels").size(), 6u);
  EXPECT_EQ((*graph)->ParameterCount(), 30610);
  auto it = Interpreter::Create(*graph);
  ASSERT_TRUE(it.ok()) << it.status().message();
  (*it)->Invoke();
  const float* p = static_cast<const float*>((*it)->output_data(0));
  EXPECT_NEAR(p[0] + p[1], 1.0f, 1e-6f);

  ckpt.tensors.erase("backbone.layer2.1.conv.3.norm.running_var");
  ASSERT_TRUE(safetensors::WriteFile(path, ckpt).ok());
  auto broken = LoadCheckpointGraph(path, std::nullopt);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("model.safetensors: missing tensor backbone.layer2.1.conv.3.norm.running_var"), std::string::npos)
      << broken.status().message();
  std::vector<uint8_t> junk = {1, 2, 3};
  testing::WriteFileBytes(path, junk);
  EXPECT_FALSE(LoadCheckpointGraph(path, std::nullopt).ok());
}

TEST(Checkpoint, UnusedSscmaLayersAreIgnoredWithANote) {
  // SSCMA's .pth files also hold layer4..layer7, which the 0.35 preset never runs.
  safetensors::File ckpt = TwinCheckpoint();
  const std::string path = testing::TempDir() + "/sscma_like.safetensors";
  ASSERT_TRUE(safetensors::WriteFile(path, ckpt).ok());
  std::vector<std::string> notes;
  auto plain = LoadCheckpointGraph(path, std::nullopt, &notes);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_TRUE(notes.empty()) << notes[0];

  int added = 0;
  for (int layer = 4; layer <= 7; ++layer)
    for (const char* t : {".0.conv3x3.conv.weight", ".0.conv3x3.conv.bias", ".0.dense_norm.running_var"}) {
      ckpt.tensors["backbone.layer" + std::to_string(layer) + t] = safetensors::FromFloat({1.0f, 2.0f}, {2});
      ++added;
    }
  ckpt.tensors["backbone.layer10.0.x"] = safetensors::FromFloat({1.0f}, {1});  // not layer1
  ++added;
  ASSERT_TRUE(safetensors::WriteFile(path, ckpt).ok());
  auto graph = LoadCheckpointGraph(path, std::nullopt, &notes);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ((*graph)->ParameterCount(), 30610);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "note: " + path + ": ignoring " + std::to_string(added) + " tensors of unused layers layer4..layer10");

  // One extra layer; and the 1.0 preset runs layer4, so only layer5 is unused there.
  StateDict state;
  state["backbone.layer4.0.conv3x3.conv.weight"] = {1.0f};
  state["backbone.layer5.0.conv3x3.conv.weight"] = {1.0f};
  auto w035 = ArchFromName("mbv2-rep-0.35");
  auto w100 = ArchFromName("mbv2-rep-1.0");
  ASSERT_TRUE(w035.ok() && w100.ok());
  EXPECT_EQ(UnusedLayersNote("m.pth", state, *DescribeArch(*w035)), "note: m.pth: ignoring 2 tensors of unused layers layer4..layer5");
  EXPECT_EQ(UnusedLayersNote("m.pth", state, *DescribeArch(*w100)), "note: m.pth: ignoring 1 tensor of unused layer layer5");
}

// Probabilities of a deploy graph of `state` at 32x32 on forward_w035's input, against the
// softmax of the twin's eval-mode logits: the largest absolute difference.
double MaxProbabilityError(const StateDict& state, std::string* description) {
  auto twin = safetensors::ReadFile(TwinPath("forward_w035.safetensors"));
  EXPECT_TRUE(twin.ok()) << twin.status().message();
  if (!twin.ok()) return 1e9;
  const std::vector<float> x = twin->tensors.at("input").AsFloat();  // [N,3,32,32]
  const std::vector<float> logits = twin->tensors.at("logits_eval").AsFloat();
  const int n = static_cast<int>(twin->tensors.at("input").shape[0]), hw = 32;
  auto graph = DeployGraphFromStateDict(state, std::nullopt, hw);
  EXPECT_TRUE(graph.ok()) << graph.status().message();
  if (!graph.ok()) return 1e9;
  *description = graph->description;
  auto it = Interpreter::Create(std::make_shared<Graph>(std::move(graph).value()), {.kernels = KernelSet::kReference});
  EXPECT_TRUE(it.ok()) << it.status().message();
  if (!it.ok()) return 1e9;
  double worst = 0;
  for (int s = 0; s < n; ++s) {
    float* in = static_cast<float*>((*it)->input_data(0));
    for (int c = 0; c < 3; ++c)  // NCHW -> NHWC
      for (int i = 0; i < hw * hw; ++i) in[i * 3 + c] = x[(static_cast<size_t>(s) * 3 + c) * hw * hw + i];
    (*it)->Invoke();
    const float* got = static_cast<const float*>((*it)->output_data(0));
    const double l0 = logits[2 * s], l1 = logits[2 * s + 1], m = std::max(l0, l1);
    const double p1 = std::exp(l1 - m) / (std::exp(l0 - m) + std::exp(l1 - m));
    worst = std::max({worst, std::fabs(got[1] - p1), std::fabs(got[0] - (1 - p1))});
  }
  return worst;
}

TEST(Checkpoint, SscmaLayoutFusesTheBranchesNotTheStoredFuseConv) {
  // SSCMA's state_dicts carry fuse_conv next to the branches, refreshed only by eval():
  // here it is still random (tools/twin: mbv2_rep_w035_sscma.pth). The branches decide.
  auto file = pth::ReadStateDict(TwinPath("mbv2_rep_w035_sscma.pth"));
  ASSERT_TRUE(file.ok()) << file.status().message();
  StateDict state;
  for (const auto& [name, t] : file->tensors) state[name] = t.AsFloat();
  ASSERT_EQ(state.count("backbone.layer1.0.fuse_conv.weight"), 1u);
  std::string description;
  EXPECT_LE(MaxProbabilityError(state, &description), 1e-5);
  EXPECT_NE(description.find("6 RepConv1x1 blocks fused from their train-form branches (their stored fuse_conv ignored)"), std::string::npos)
      << description;

  // The same file read as deploy-only (branches dropped) runs its stale fuse_conv, which is
  // far from PyTorch: the case above would fail if fusion preferred fuse_conv.
  StateDict deploy_only;
  for (const auto& [name, v] : state) {
    const bool branch = name.find(".conv3x3.") != std::string::npos || name.find(".conv.") != std::string::npos ||
                        name.find(".norm.") != std::string::npos || name.find(".dense_norm.") != std::string::npos;
    if (name.rfind("backbone.layer", 0) != 0 || !branch) deploy_only[name] = v;
  }
  EXPECT_GT(MaxProbabilityError(deploy_only, &description), 0.01);
  EXPECT_NE(description.find("6 RepConv1x1 blocks taken from fuse_conv (deploy-only state dict)"), std::string::npos) << description;
}

TEST(Checkpoint, NonFiniteWeightsAreRejected) {
  StateDict state;
  for (const auto& [name, t] : TwinCheckpoint().tensors) state[name] = t.AsFloat();
  for (const char* name : {"backbone.layer2.1.conv.3.conv.weight", "head.fc.bias", "backbone.conv1.norm.running_mean"}) {
    for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
      StateDict s = state;
      s[name][1] = bad;
      auto graph = DeployGraphFromStateDict(s, std::nullopt, 32);
      ASSERT_FALSE(graph.ok()) << name;
      EXPECT_NE(graph.status().message().find(std::string("tensor ") + name + " holds a non-finite value"), std::string::npos)
          << graph.status().message();
    }
  }
  // Finite values that fuse to inf: a huge BN weight over a zero running variance.
  StateDict s = state;
  s["backbone.layer1.0.dense_norm.weight"][0] = 3e38f;
  s["backbone.layer1.0.dense_norm.running_var"][0] = 0;
  auto graph = DeployGraphFromStateDict(s, std::nullopt, 32);
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.status().message().find("backbone.layer1.0 fuses to non-finite weights"), std::string::npos) << graph.status().message();
}

TEST(Checkpoint, PyTorchFilesRunAsTheSameModel) {
  // The twin's .pth files (train form, mmengine layout, deploy form) give the same model.
  std::vector<std::vector<float>> outputs;
  for (const char* name : {"mbv2_rep_w035.pth", "mbv2_rep_w035_mmengine.pth", "mbv2_rep_w035_deploy.pth"}) {
    auto graph = LoadCheckpointGraph(TwinPath(name), std::nullopt);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto it = Interpreter::Create(*graph);
    ASSERT_TRUE(it.ok()) << it.status().message();
    float* in = static_cast<float*>((*it)->input_data(0));
    for (int i = 0; i < 96 * 96 * 3; ++i) in[i] = static_cast<float>((i * 37) % 256) / 255.0f;
    (*it)->Invoke();
    const float* p = static_cast<const float*>((*it)->output_data(0));
    outputs.push_back({p[0], p[1]});
  }
  for (size_t k = 1; k < outputs.size(); ++k)
    for (int c = 0; c < 2; ++c) EXPECT_NEAR(outputs[k][c], outputs[0][c], 1e-5) << k;
}

}  // namespace
}  // namespace personcls
