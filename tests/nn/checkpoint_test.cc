// Checkpoints as runnable models: architecture inference and the fused deploy graph.
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
