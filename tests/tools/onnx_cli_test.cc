// `personcls export --format onnx` end to end: the .onnx classifies like its source model
// in every command, carries labels, and bad inputs give one-line errors and no file.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "formats/safetensors/safetensors.h"
#include "quant/quant_test_util.h"
#include "tools/cli_run.h"

namespace personcls {
namespace {

namespace fs = std::filesystem;
using testing::RunCli;
using testing::RunResult;

// A 48x48 twin checkpoint and 3 PPM images in a fresh directory.
std::string MakeCheckpointAndImages(std::string* images) {
  const std::string dir = testing::TempDir();
  safetensors::File ckpt = testing::TwinCheckpointFile();
  ckpt.metadata["input_size"] = "48";
  EXPECT_TRUE(safetensors::WriteFile(dir + "/model.safetensors", ckpt).ok());
  *images = dir + "/images";
  fs::create_directories(*images);
  const std::vector<uint8_t> px = testing::RandomImages(3, 48, testing::TestSeed());
  for (int i = 0; i < 3; ++i) {
    std::string ppm = "P6\n48 48\n255\n";
    ppm.append(px.begin() + i * 48 * 48 * 3, px.begin() + (i + 1) * 48 * 48 * 3);
    testing::WriteFileBytes(*images + "/img" + std::to_string(i) + ".ppm", std::vector<uint8_t>(ppm.begin(), ppm.end()));
  }
  return dir + "/model.safetensors";
}

TEST(OnnxCli, ExportedCheckpointClassifiesLikeTheCheckpoint) {
  std::string images;
  const std::string ckpt = MakeCheckpointAndImages(&images);
  const std::string onnx = fs::path(ckpt).parent_path().string() + "/m.onnx";
  RunResult e = RunCli("export --model " + ckpt + " --format onnx --labels no,yes --out " + onnx);
  ASSERT_EQ(e.exit_code, 0) << e.err;
  RunResult a = RunCli("classify --json --kernels ref --model " + ckpt + " " + images);
  RunResult b = RunCli("classify --json --kernels ref --model " + onnx + " " + images);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  ASSERT_EQ(ja.size(), 3u);
  ASSERT_EQ(jb.size(), 3u);
  for (size_t i = 0; i < ja.size(); ++i) {
    EXPECT_EQ(jb[i]["label"], jb[i]["index"] == 1 ? "yes" : "no");  // labels from the ONNX metadata
    EXPECT_EQ(jb[i]["index"], ja[i]["index"]);
    for (int k = 0; k < 2; ++k) EXPECT_NEAR(jb[i]["scores"][k].get<double>(), ja[i]["scores"][k].get<double>(), 1e-5);
  }
  RunResult info = RunCli("info --json --model " + onnx);
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(nlohmann::json::parse(info.out)["inputs"][0]["shape"], (nlohmann::json{1, 48, 48, 3}));
}

TEST(OnnxCli, Int8ModelsAndCorruptFilesFailWithOneLineAndNoOutput) {
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_int8.tflite");
  const std::string dir = testing::TempDir();
  const std::string out = dir + "/int8.onnx";
  RunResult r = RunCli("export --model " + testing::SharedPath("models/mlperf_vww_96_int8.tflite") + " --format onnx --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("float32 graphs only"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir));  // no temporary left behind

  const std::string bad = dir + "/bad.onnx";
  testing::WriteFileBytes(bad, {0x08, 0x07, 0x3a, 0x40, 0x0a});  // ir_version 7, then a truncated graph
  r = RunCli("classify --model " + bad + " " + testing::SharedPath("images"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("personcls: error: " + bad + ": not an ONNX model", 0), 0u) << r.err;
}

}  // namespace
}  // namespace personcls
