// The embedded default model through the CLI: classify / eval / info / bench without --model,
// and `personcls distill` end to end on a few vww01-dev images.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/safetensors/safetensors.h"
#include "personcls/default_model.h"
#include "test_util.h"
#include "tools/cli_run.h"

namespace personcls {
namespace {

using testing::ExpectCliError;
using testing::RunCli;
using testing::RunResult;
using testing::SharedPath;

TEST(DefaultModelCli, ClassifyWithoutModelUsesTheEmbeddedBytes) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000389.jpg");
  // The embedded bytes written to a file and given as --model classify the same.
  const std::string dir = testing::TempDir();
  const auto bytes = DefaultModelTflite();
  testing::WriteFileBytes(dir + "/default.tflite", std::vector<uint8_t>(bytes.begin(), bytes.end()));
  const RunResult def = RunCli("classify --json " + SharedPath("images"));
  const RunResult given = RunCli("classify --json --model " + dir + "/default.tflite " + SharedPath("images"));
  ASSERT_EQ(def.exit_code, 0) << def.err;
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(def.out, given.out);
  // `export` without --model writes the embedded model (for firmware): same outputs, same
  // provenance metadata; and as C source.
  const RunResult exported = RunCli("export --format tflite --out " + dir + "/exported.tflite");
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const RunResult reread = RunCli("classify --json --model " + dir + "/exported.tflite " + SharedPath("images"));
  ASSERT_EQ(reread.exit_code, 0) << reread.err;
  EXPECT_EQ(reread.out, given.out);
  const RunResult info = RunCli("info --model " + dir + "/exported.tflite");
  EXPECT_NE(info.out.find("metadata:     teachers = mlperf_vww_96_float.tflite,tinymaix_vww96_f.tflite"), std::string::npos) << info.out;
  ASSERT_EQ(RunCli("export --format c --out " + dir + "/firmware_model").exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir + "/firmware_model.h"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/firmware_model.c"));
  const auto j = nlohmann::json::parse(def.out);
  ASSERT_EQ(j.size(), 6u);
  // TinyMaix's samples: 389, 1943 and 2992 show people; 250, 384 and 1111 do not.
  int right = 0;
  for (const auto& p : j) {
    const std::string file = p["file"];
    const bool person = file.find("389") != std::string::npos || file.find("1943") != std::string::npos || file.find("2992") != std::string::npos;
    right += (p["label"] == "Person") == person;
  }
  EXPECT_GE(right, 4) << def.out;
}

TEST(DefaultModelCli, EvalInfoAndBenchWithoutModel) {
  PCLS_REQUIRE_SHARED("data/vww01-dev/labels.csv");
  const RunResult eval = RunCli("eval --json --data " + SharedPath("data/vww01-dev"));
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const double acc = nlohmann::json::parse(eval.out)["accuracy"];
  // vww01-dev is held out from the default model's training (docs/default-model.md: 86.0 %).
  EXPECT_GT(acc, 0.8) << "the embedded model scores far below its measured accuracy on vww01-dev";
  const RunResult info = RunCli("info");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  for (const char* s : {"embedded default model", "MobileNetV2-0.5-Rep", "accuracy:", "made:", "reproduce:    scripts/make_default_model.sh",
                        "metadata:     teachers = mlperf_vww_96_float.tflite,tinymaix_vww96_f.tflite", "metadata:     arch = mbv2-rep-0.5"})
    EXPECT_NE(info.out.find(s), std::string::npos) << s << "\n" << info.out;
  const RunResult json = RunCli("info --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["model"], "(embedded default model)");
  EXPECT_EQ(j["default_model"]["reproduce"], "scripts/make_default_model.sh");
  EXPECT_EQ(j["inputs"][0]["type"], "int8");
  EXPECT_NE(j["metadata"]["distill"].get<std::string>().find("arch=mbv2-rep-0.5"), std::string::npos);
  const RunResult bench = RunCli("bench --runs 3");
  EXPECT_EQ(bench.exit_code, 0) << bench.err;
}

TEST(DefaultModelCli, DistillEndToEnd) {
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_float.tflite");
  // 8 labelled and 4 validation images of vww01-dev (links plus labels.csv), 2 steps.
  const std::string dir = testing::TempDir(), dev = SharedPath("data/vww01-dev");
  std::ifstream labels(dev + "/labels.csv");
  std::string line;
  std::getline(labels, line);
  for (const char* split : {"train", "val"}) {
    std::filesystem::create_directories(dir + "/" + split);
    std::ofstream out(dir + "/" + split + "/labels.csv");
    out << "file,label\n";
    for (int i = 0; i < (split[0] == 't' ? 8 : 4) && std::getline(labels, line); ++i) {
      const std::string file = line.substr(0, line.find(','));
      std::filesystem::create_symlink(dev + "/" + file, dir + "/" + split + "/" + file);
      out << line << "\n";
    }
  }
  const std::string teachers = " --teacher " + SharedPath("models/mlperf_vww_96_float.tflite") + " --teacher " + SharedPath("models/tinymaix_vww96_q.tflite");
  const std::string common = teachers + " --data " + dir + "/train --epochs 1 --batch 4 --hard-weight 0.3 --mixup 0.5";
  const RunResult r = RunCli("distill" + common + " --verbose --val " + dir + "/val --out " + dir + "/run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // --verbose: a progress line per step, as train's; the run is never overwritten by accident.
  EXPECT_NE(r.err.find("epoch 1/1 1/2  "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("epoch 1/1 2/2  "), std::string::npos) << r.err;
  ExpectCliError(RunCli("distill" + common + " --out " + dir + "/run"), "run: holds a run (last.safetensors); give --resume");
  EXPECT_NE(r.out.find("teacher ensemble (mean probabilities): val_top1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("epoch   1/1  it      2"), std::string::npos) << r.out;
  auto last = safetensors::ReadFile(dir + "/run/last.safetensors");
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_EQ(last->metadata.at("teachers"), "mlperf_vww_96_float.tflite,tinymaix_vww96_q.tflite");
  EXPECT_EQ(last->metadata.at("training_fingerprint").rfind("pcfp1 size=96 channels=3 images=8 ", 0), 0u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/run/best.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/run/log.csv"));
  // The checkpoint runs as a model and carries its provenance into `info`.
  const RunResult info = RunCli("info --model " + dir + "/run/last.safetensors");
  EXPECT_NE(info.out.find("metadata:     teachers = mlperf_vww_96_float.tflite,tinymaix_vww96_q.tflite"), std::string::npos) << info.out;
  // Starting from SSCMA's CIFAR-10 model (its backbone only), and resuming a finished run.
  const RunResult init = RunCli("distill" + common + " --init " + SharedPath("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite") + " --out " + dir + "/init");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.err.find("student starts from"), std::string::npos) << init.err;
  EXPECT_NE(init.err.find("(backbone)"), std::string::npos) << init.err;
  auto init_last = safetensors::ReadFile(dir + "/init/last.safetensors");
  ASSERT_TRUE(init_last.ok());
  EXPECT_NE(init_last->metadata.at("distill").find("init=sscma_mbv2_0.35_rep_cifar10_int8.tflite"), std::string::npos);
  const RunResult resumed = RunCli("distill" + common + " --init " + SharedPath("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite") + " --resume --out " + dir + "/init");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming " + dir + "/init after epoch 1"), std::string::npos) << resumed.err;
  // A width-0.5 student from the width-0.35 model, widened.
  const RunResult wide = RunCli("distill" + common + " --arch mbv2-rep-0.5 --init " + SharedPath("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite") +
                                " --out " + dir + "/wide");
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_NE(wide.err.find("(backbone, mbv2-rep-0.35 widened by replicating channels)"), std::string::npos) << wide.err;
  // ... and from a width-0.35 checkpoint (read as its own width, then widened).
  const RunResult wide_ckpt = RunCli("distill" + common + " --arch mbv2-rep-0.5 --init " + dir + "/init/last.safetensors --out " + dir + "/wide2");
  ASSERT_EQ(wide_ckpt.exit_code, 0) << wide_ckpt.err;
  EXPECT_NE(wide_ckpt.err.find("(backbone and head, mbv2-rep-0.35 widened by replicating channels)"), std::string::npos) << wide_ckpt.err;
  // Feature distillation: the epoch line reports the adapter's error, the recipe says so.
  const RunResult feat = RunCli("distill" + common + " --feature-weight 0.5 --out " + dir + "/feat");
  ASSERT_EQ(feat.exit_code, 0) << feat.err;
  EXPECT_NE(feat.out.find("  feat "), std::string::npos) << feat.out;
  EXPECT_EQ(r.out.find("  feat "), std::string::npos) << "no feature term, no feature column: " << r.out;
  auto feat_last = safetensors::ReadFile(dir + "/feat/last.safetensors");
  ASSERT_TRUE(feat_last.ok());
  EXPECT_NE(feat_last->metadata.at("distill").find(" feature=0.5"), std::string::npos) << feat_last->metadata.at("distill");
  EXPECT_EQ(last->metadata.at("distill").find("feature="), std::string::npos);
  // Bad input: one line naming the problem.
  ExpectCliError(RunCli("distill" + teachers + " --data " + dir + "/train --feature-weight -1 --out " + dir + "/r7"), "feature weight");
  ExpectCliError(RunCli("distill" + common + " --init " + SharedPath("models/mlperf_vww_96_float.tflite") + " --out " + dir + "/r5"),
                 "mlperf_vww_96_float.tflite: convolution 0 (conv1): filter [8, 3, 3, 3], expected [16, 3, 3, 3]");
  ExpectCliError(RunCli("distill" + common + " --resume --out " + dir + "/r6"), "r6/last_state.safetensors: cannot open");
  ExpectCliError(RunCli("distill --teacher " + dir + "/missing.tflite --data " + dir + "/train --out " + dir + "/r2"), "missing.tflite");
  ExpectCliError(RunCli("distill" + teachers + " --data " + dir + "/train --hard-weight 2 --out " + dir + "/r3"), "hard weight");
  ExpectCliError(RunCli("distill" + teachers + " --data " + dir + "/nothing --out " + dir + "/r4"), "nothing");

  // A pool with an index.csv (two sources, labels on some images) and no labelled set.
  std::filesystem::create_directories(dir + "/pool");
  {
    std::ifstream train(dir + "/train/labels.csv");
    std::ofstream index(dir + "/pool/index.csv");
    index << "file,source,person_label,orig_w,orig_h,coco_id\n";
    std::getline(train, line);
    for (int i = 0; std::getline(train, line); ++i) {
      const std::string file = line.substr(0, line.find(',')), label = line.substr(line.find(',') + 1);
      index << "../train/" << file << "," << (i < 5 ? "big" : "small") << "," << (i % 2 ? label : "") << ",96,96,\n";
    }
  }
  const std::string pool = teachers + " --unlabeled " + dir + "/pool --unlabeled-size 96 --labeled-per-batch 0 --epochs 1 --batch 4";
  const RunResult p = RunCli("distill" + pool + " --source-cap 2 --source-weight small=2 --pool-labels --hard-weight 0.3 --verbose --out " + dir + "/pool_run");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.err.find("pool of 8 images from 2 sources (4 with labels)"), std::string::npos) << p.err;
  // The mix: weights min(5, 2) x 1 and min(3, 2) x 2 of 6.
  EXPECT_NE(p.err.find("source big                               5 images      2 labelled  weight     2.0  share  33.3 %"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("source small                             3 images      2 labelled  weight     4.0  share  66.7 %"), std::string::npos) << p.err;
  EXPECT_NE(p.out.find("epoch   1/1  it      2"), std::string::npos) << "8 pool images / batch 4: " << p.out;
  auto pool_last = safetensors::ReadFile(dir + "/pool_run/last.safetensors");
  ASSERT_TRUE(pool_last.ok());
  EXPECT_NE(pool_last->metadata.at("distill").find(" source_cap=2 w[small]=2 pool_labels=1"), std::string::npos) << pool_last->metadata.at("distill");
  // Pool photos are in the training fingerprint: eval on them says so.
  const RunResult seen = RunCli("eval --json --model " + dir + "/pool_run/last.safetensors --data " + dir + "/train");
  ASSERT_EQ(seen.exit_code, 0) << seen.err;
  EXPECT_EQ(nlohmann::json::parse(seen.out)["training_overlap"]["matched"], 8) << seen.out;
  ExpectCliError(RunCli("distill" + pool + " --source-cap 2 --source-weight other=2 --out " + dir + "/r8"), "--source-weight other: no such pool source");
  ExpectCliError(RunCli("distill" + pool + " --source-weight small --out " + dir + "/r9"), "expected NAME=W");
  ExpectCliError(RunCli("distill" + pool + " --source-weight small=nan --out " + dir + "/r9"), "expected NAME=W");
  ExpectCliError(RunCli("distill" + teachers + " --unlabeled " + dir + "/pool --out " + dir + "/r10"), "--data is needed");
}

}  // namespace
}  // namespace personcls
