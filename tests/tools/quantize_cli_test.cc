// `personcls quantize` and `personcls export` end to end: artifacts that the other commands
// read back, and one-line errors without output files on bad input.
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

struct Fixture {
  std::string dir, ckpt, images;
};

// A 48x48 twin checkpoint and 5 PPM images.
Fixture MakeFixture() {
  Fixture f;
  f.dir = testing::TempDir();
  safetensors::File ckpt = testing::TwinCheckpointFile();
  ckpt.metadata["input_size"] = "48";
  f.ckpt = f.dir + "/model.safetensors";
  EXPECT_TRUE(safetensors::WriteFile(f.ckpt, ckpt).ok());
  f.images = f.dir + "/images";
  fs::create_directories(f.images);
  const std::vector<uint8_t> px = testing::RandomImages(5, 48, testing::TestSeed());
  for (int i = 0; i < 5; ++i) {
    std::string ppm = "P6\n48 48\n255\n";
    ppm.append(px.begin() + i * 48 * 48 * 3, px.begin() + (i + 1) * 48 * 48 * 3);
    testing::WriteFileBytes(f.images + "/img" + std::to_string(i) + ".ppm", std::vector<uint8_t>(ppm.begin(), ppm.end()));
  }
  return f;
}

std::string OneLine(const RunResult& r) { return r.err.substr(0, r.err.find('\n')); }

TEST(QuantizeCli, QuantizeAndExportFormatsRoundTrip) {
  Fixture f = MakeFixture();
  const std::string int8 = f.dir + "/m_int8.tflite";
  RunResult q = RunCli("quantize --model " + f.ckpt + " --calib " + f.images + " --images 3 --out " + int8);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  RunResult info = RunCli("info --json --model " + int8);
  ASSERT_EQ(info.exit_code, 0) << info.err;
  nlohmann::json j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["inputs"][0]["type"], "int8");
  EXPECT_EQ(j["outputs"][0]["zero_point"], -128);
  EXPECT_EQ(j["labels"], (nlohmann::json{"Not a person", "Person"}));

  // The float export classifies like the checkpoint itself (same deploy graph).
  const std::string flt = f.dir + "/m.tflite";
  RunResult e = RunCli("export --model " + f.ckpt + " --format tflite --labels no,yes --out " + flt);
  ASSERT_EQ(e.exit_code, 0) << e.err;
  RunResult a = RunCli("classify --json --model " + f.ckpt + " " + f.images);
  RunResult b = RunCli("classify --json --model " + flt + " " + f.images);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  nlohmann::json ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  ASSERT_EQ(ja.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(jb[i]["label"], ja[i]["index"] == 1 ? "yes" : "no");
    for (int c = 0; c < 2; ++c) EXPECT_NEAR(jb[i]["scores"][c].get<double>(), ja[i]["scores"][c].get<double>(), 1e-5);
  }

  // export tflite-int8 is quantize.
  RunResult e8 = RunCli("export --model " + f.ckpt + " --format tflite-int8 --calib " + f.images + " --images 3 --out " + f.dir + "/e8.tflite");
  ASSERT_EQ(e8.exit_code, 0) << e8.err;
  EXPECT_EQ(testing::ReadFileBytes(f.dir + "/e8.tflite"), testing::ReadFileBytes(int8));

  RunResult c = RunCli("export --model " + int8 + " --format c --out " + f.dir + "/fw/person_model.cc");
  ASSERT_NE(c.exit_code, 0);  // fw/ does not exist
  fs::create_directories(f.dir + "/fw");
  c = RunCli("export --model " + int8 + " --format c --out " + f.dir + "/fw/person_model.cc");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(fs::exists(f.dir + "/fw/person_model.h"));
  EXPECT_TRUE(fs::exists(f.dir + "/fw/person_model.cc"));
}

TEST(QuantizeCli, BadInputGivesOneLineAndNoFile) {
  Fixture f = MakeFixture();
  const std::string out = f.dir + "/out.tflite";
  fs::create_directories(f.dir + "/empty");
  struct Case {
    std::string args, error;
  } cases[] = {
      {"quantize --model " + f.ckpt + " --calib " + f.dir + "/empty --out " + out, f.dir + "/empty: no images for calibration"},
      {"quantize --model " + f.ckpt + " --calib " + f.images + " --method kl --out " + out, "unknown calibration method 'kl'"},
      {"quantize --model " + f.ckpt + " --calib " + f.images + " --images 0 --out " + out, "--images must be at least 1"},
      {"export --model " + f.ckpt + " --format tflite-int8 --out " + out, "--format tflite-int8 needs --calib DIR"},
      {"export --model " + f.ckpt + " --format tflite --labels a,b,c --out " + out, "3 labels given but the model has 2 outputs"},
      {"export --model " + f.dir + "/none.safetensors --format tflite --out " + out, "none.safetensors"},
  };
  for (const Case& c : cases) {
    RunResult r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args;
    EXPECT_NE(OneLine(r).find(c.error), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.args;
  }
  // A checkpoint with a missing tensor; an int8 model cannot be quantized again. The
  // previous output survives both.
  testing::WriteFileBytes(out, {'o', 'l', 'd'});
  safetensors::File broken = testing::TwinCheckpointFile();
  broken.tensors.erase("head.fc.weight");
  ASSERT_TRUE(safetensors::WriteFile(f.dir + "/broken.safetensors", broken).ok());
  RunResult r = RunCli("quantize --model " + f.dir + "/broken.safetensors --calib " + f.images + " --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("broken.safetensors"), std::string::npos) << r.err;
  ASSERT_EQ(RunCli("quantize --model " + f.ckpt + " --calib " + f.images + " --out " + f.dir + "/q.tflite").exit_code, 0);
  r = RunCli("quantize --model " + f.dir + "/q.tflite --calib " + f.images + " --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("needs a float32"), std::string::npos) << r.err;
  EXPECT_EQ(testing::ReadFileBytes(out), (std::vector<uint8_t>{'o', 'l', 'd'}));
  for (const auto& e : fs::directory_iterator(f.dir)) EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace personcls
