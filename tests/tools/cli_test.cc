// The personcls CLI end to end: runs build/personcls as a user would.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/safetensors/safetensors.h"
#include "formats/tflite/tflite_writer.h"
#include "personcls/image.h"
#include "personcls/model.h"
#include "test_util.h"
#include "tools/cli_run.h"

namespace personcls {
namespace {

using testing::ExpectCliError;
using testing::RunCli;
using testing::RunResult;
using testing::SharedPath;

// Accuracy implied by a golden CSV: argmax (first index on ties) against labels.csv.
double GoldenAccuracy(const std::string& golden) {
  std::map<std::string, int> labels;
  std::ifstream lab(SharedPath("data/vww01-dev/labels.csv"));
  std::string line;
  std::getline(lab, line);  // header
  while (std::getline(lab, line)) labels[line.substr(0, line.find(','))] = std::stoi(line.substr(line.find(',') + 1));
  std::ifstream in(SharedPath("golden/" + golden));
  int correct = 0, total = 0;
  while (std::getline(in, line)) {
    std::istringstream values(line.substr(line.find(',') + 1));
    double a, b;
    values >> a >> b;
    correct += ((b > a) ? 1 : 0) == labels.at(line.substr(0, line.find(',')));
    ++total;
  }
  return static_cast<double>(correct) / total;
}

class EvalMatchesGoldens : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(EvalMatchesGoldens, AccuracyEqualsGoldenImplied) {
  const auto [model, golden] = GetParam();
  PCLS_REQUIRE_SHARED(std::string("models/") + model);
  const RunResult r = RunCli("eval --json --model " + SharedPath(std::string("models/") + model) + " --data " + SharedPath("data/vww01-dev"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), GoldenAccuracy(golden));
  EXPECT_EQ(j["predictions"].size(), 500u);
  EXPECT_EQ(j["confusion"].size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(VwwModels, EvalMatchesGoldens,
                         ::testing::Values(std::make_pair("mlperf_vww_96_int8.tflite", "mlperf_vww_96_int8.dev.csv"),
                                           std::make_pair("mlperf_vww_96_float.tflite", "mlperf_vww_96_float.dev.csv"),
                                           std::make_pair("tinymaix_vww96_q.tflite", "tinymaix_vww96_q.dev.csv"),
                                           std::make_pair("tinymaix_vww96_f.tflite", "tinymaix_vww96_f.dev.csv"),
                                           std::make_pair("tflm_person_detect.tflite", "tflm_person_detect.dev.csv")));

TEST(Cli, EvalPrintsAccuracyAndConfusion) {
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_int8.tflite");
  const RunResult r = RunCli("eval --model " + SharedPath("models/mlperf_vww_96_int8.tflite") + " --data " + SharedPath("data/vww01-dev"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy: 85.60 %"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("precision"), std::string::npos);
}

TEST(Cli, ClassifyJsonOnSharedImages) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  const RunResult r = RunCli("classify --json --model " + SharedPath("models/mlperf_vww_96_int8.tflite") + " " + SharedPath("images"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 6u);
  for (const auto& p : j) {
    EXPECT_TRUE(p.contains("file") && p.contains("label") && p.contains("index") && p.contains("scores") && p.contains("raw"));
    ASSERT_EQ(p["raw"].size(), 2u);
    EXPECT_TRUE(p["raw"][0].is_number_integer());
    const float s0 = p["scores"][0], s1 = p["scores"][1];
    EXPECT_NEAR(s0 + s1, 1.0f, 0.01f);
    EXPECT_EQ(p["label"], p["index"] == 1 ? "Person" : "Not a person");
  }
}

TEST(Cli, ClassifyPlainLineAndCustomLabels) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  const std::string img = SharedPath("images/COCO_train2014_000000000250.jpg");
  const RunResult r = RunCli("classify --labels 'no,yes' --model " + SharedPath("models/mlperf_vww_96_float.tflite") + " " + img);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(img + "\t", 0), 0u) << r.out;
  EXPECT_TRUE(r.out.find("\tyes\t") != std::string::npos || r.out.find("\tno\t") != std::string::npos) << r.out;
  const RunResult bad = RunCli("classify --labels 'a,b,c' --model " + SharedPath("models/mlperf_vww_96_float.tflite") + " " + img);
  ExpectCliError(bad, "3 labels but the model has 2 outputs");
}

TEST(Cli, InfoJsonReportsCostsAndQuantization) {
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_int8.tflite");
  // The reference kernels need no scratch: the arena is the planned activations alone.
  const RunResult r = RunCli("info --json --kernels ref --model " + SharedPath("models/mlperf_vww_96_int8.tflite"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"params", "macs", "arena_bytes", "inputs", "outputs", "ops"}) EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["macs"], 7489664);
  EXPECT_LE(j["arena_bytes"].get<int64_t>(), 103392);  // TFLite Micro's arena for this model
  EXPECT_EQ(j["inputs"][0]["zero_point"], -128);
  EXPECT_EQ(j["ops"].size(), 31u);
  const RunResult fast = RunCli("info --json --model " + SharedPath("models/mlperf_vww_96_int8.tflite"));
  ASSERT_EQ(fast.exit_code, 0) << fast.err;
  EXPECT_GE(nlohmann::json::parse(fast.out)["arena_bytes"].get<int64_t>(), j["arena_bytes"].get<int64_t>());
}

TEST(Cli, InfoArchPrintsPublishedFigures) {
  const RunResult r = RunCli("info --json --arch mbv2-rep-1.0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["params"], 663234);
  EXPECT_NEAR(j["macs"].get<double>() / 1e6, 76.31, 0.005);
  EXPECT_GT(j["train_params"].get<int64_t>(), 663234);
  EXPECT_EQ(j["layers"].size(), 11u);
  const RunResult small = RunCli("info --arch mbv2-rep-0.35 --input 64 --classes 10 --gray");
  ASSERT_EQ(small.exit_code, 0) << small.err;
  EXPECT_NE(small.out.find("64x64x1, 10 classes"), std::string::npos) << small.out;
  ExpectCliError(RunCli("info --arch mbv2-rep-3.0"), "unknown architecture 'mbv2-rep-3.0'");
}

TEST(Cli, BenchReportsLatency) {
  PCLS_REQUIRE_SHARED("models/tinymaix_vww96_q.tflite");
  const RunResult r = RunCli("bench --json --runs 3 --warmup 1 --model " + SharedPath("models/tinymaix_vww96_q.tflite"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["median_ms"].get<double>(), 0.0);
  EXPECT_LE(j["min_ms"].get<double>(), j["max_ms"].get<double>());
}

TEST(Cli, BadInputsGiveOneLineErrors) {
  const std::string dir = testing::TempDir();
  testing::WriteFileBytes(dir + "/empty.tflite", {});
  ExpectCliError(RunCli("info --model " + dir + "/empty.tflite"), "empty.tflite: empty file");
  ExpectCliError(RunCli("info --model " + dir + "/missing.tflite"), "missing.tflite: cannot open");
  ExpectCliError(RunCli("info --model " + dir), "is a directory");
  if (!testing::HaveShared()) return;
  const std::string model = SharedPath("models/mlperf_vww_96_int8.tflite");
  auto jpeg = testing::ReadFileBytes(SharedPath("images/COCO_train2014_000000000250.jpg"));
  jpeg.resize(jpeg.size() / 2);
  testing::WriteFileBytes(dir + "/half.jpg", jpeg);
  const RunResult r = RunCli("classify --model " + model + " " + dir + "/half.jpg");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("half.jpg"), std::string::npos) << r.err;
  ExpectCliError(RunCli("eval --model " + model + " --data " + dir), "no labels.csv and no class folders");
  std::ofstream(dir + "/labels.csv") << "file,label\nx.bin,7\n";
  ExpectCliError(RunCli("eval --model " + model + " --data " + dir), "labels.csv:2: label 7 out of range for 2 classes");
  ExpectCliError(RunCli("bench --runs 0 --model " + model), "--runs must be");
}

TEST(Cli, NormalizationFromModelMetadataEqualsFlags) {
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_float.tflite");
  auto graph = LoadModelFile(SharedPath("models/mlperf_vww_96_float.tflite"));
  ASSERT_TRUE(graph.ok());
  Graph g = **graph;
  const std::string text = "mean=127.5,scale=0.0078125";
  g.metadata["normalization"] = std::vector<uint8_t>(text.begin(), text.end());
  auto bytes = tflite_format::WriteTflite(g);
  ASSERT_TRUE(bytes.ok());
  const std::string dir = testing::TempDir();
  testing::WriteFileBytes(dir + "/norm.tflite", *bytes);
  const std::string image = SharedPath("data/vww01-dev/000000000885.bin");
  const RunResult meta = RunCli("classify --json --model " + dir + "/norm.tflite " + image);
  const RunResult flags = RunCli("classify --json --input-mean 127.5 --input-scale 0.0078125 --model " +
                                 SharedPath("models/mlperf_vww_96_float.tflite") + " " + image);
  const RunResult plain = RunCli("classify --json --model " + SharedPath("models/mlperf_vww_96_float.tflite") + " " + image);
  ASSERT_EQ(meta.exit_code, 0) << meta.err;
  ASSERT_EQ(flags.exit_code, 0) << flags.err;
  const auto a = nlohmann::json::parse(meta.out), b = nlohmann::json::parse(flags.out), c = nlohmann::json::parse(plain.out);
  EXPECT_EQ(a[0]["raw"], b[0]["raw"]);
  EXPECT_NE(a[0]["raw"], c[0]["raw"]);  // the metadata really changed the input
  std::string bad = "mean=oops";
  g.metadata["normalization"] = std::vector<uint8_t>(bad.begin(), bad.end());
  testing::WriteFileBytes(dir + "/bad.tflite", *tflite_format::WriteTflite(g));
  ExpectCliError(RunCli("classify --model " + dir + "/bad.tflite " + image), "metadata 'normalization'");
}

TEST(Cli, HelpAndUsage) {
  EXPECT_EQ(RunCli("--help").exit_code, 0);
  for (const char* cmd : {"classify", "eval", "info", "bench"}) {
    const RunResult r = RunCli(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("--model"), std::string::npos) << cmd;
  }
  EXPECT_NE(RunCli("").exit_code, 0);
  EXPECT_NE(RunCli("frobnicate").exit_code, 0);
}

TEST(Cli, ConvertPthToSafetensors) {
  const std::string twin = std::string(PERSONCLS_SOURCE_DIR) + "/tests/golden/twin/";
  const std::string out = testing::TempDir() + "/mbv2_rep_w035_mmengine.safetensors";
  const RunResult r = RunCli("convert " + twin + "mbv2_rep_w035_mmengine.pth --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("512 tensors"), std::string::npos) << r.out;
  auto converted = safetensors::ReadFile(out);
  ASSERT_TRUE(converted.ok()) << converted.status().message();
  EXPECT_EQ(converted->tensors.size(), 512u);
  auto golden = safetensors::ReadFile(twin + "forward_w035.safetensors");
  ASSERT_TRUE(golden.ok()) << golden.status().message();
  for (const std::string key : {"backbone.conv1.conv.weight", "head.fc.bias", "backbone.conv1.norm.num_batches_tracked"}) {
    ASSERT_TRUE(converted->tensors.count(key)) << key;
    const auto& got = converted->tensors.at(key);
    const auto& want = golden->tensors.at("param." + key);
    EXPECT_EQ(got.dtype, want.dtype) << key;
    EXPECT_EQ(got.shape, want.shape) << key;
    EXPECT_TRUE(got.bytes == want.bytes) << key;
  }
  const std::string dir = testing::TempDir();
  testing::WriteFileBytes(dir + "/junk.pth", {1, 2, 3, 4});
  ExpectCliError(RunCli("convert " + dir + "/junk.pth --out " + dir + "/junk.safetensors"), "junk.pth: not a valid zip archive");
  EXPECT_FALSE(testing::FileExists(dir + "/junk.safetensors"));
}

TEST(Cli, TrainWritesCheckpointsAndLog) {
  const std::string dir = testing::TempDir();
  // Train: class folders; val: labels.csv. 16x16 PPM images, class 1 has a bright square.
  auto write_ppm = [](const std::string& path, int label, int seed) {
    std::ofstream out(path, std::ios::binary);
    out << "P6\n16 16\n255\n";
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x) {
        const bool square = label && y >= 2 + seed % 8 && y < 8 + seed % 8 && x >= 3 + seed % 7 && x < 9 + seed % 7;
        for (int c = 0; c < 3; ++c) out.put(static_cast<char>(square ? 230 : (x * 7 + y * 13 + seed * 31 + c) % 50));
      }
  };
  std::filesystem::create_directories(dir + "/train/0_background");
  std::filesystem::create_directories(dir + "/train/1_person");
  std::filesystem::create_directories(dir + "/val");
  std::ofstream labels(dir + "/val/labels.csv");
  labels << "file,label\n";
  for (int i = 0; i < 12; ++i) {
    write_ppm(dir + "/train/" + (i % 2 ? "1_person/" : "0_background/") + std::to_string(i) + ".ppm", i % 2, i);
    if (i < 6) {
      write_ppm(dir + "/val/" + std::to_string(i) + ".ppm", i % 2, i + 20);
      labels << i << ".ppm," << i % 2 << "\n";
    }
  }
  labels.close();
  const std::string run = dir + "/run";
  const RunResult r = RunCli("train --arch mbv2-rep-0.35 --input 16 --epochs 2 --batch 4 --seed 3 --threads 1 --augment flip --data " + dir +
                             "/train --val " + dir + "/val --out " + run);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("epoch   2/2"), std::string::npos) << r.out;
  for (const char* f : {"best.safetensors", "last.safetensors", "last_state.safetensors", "log.csv"})
    EXPECT_TRUE(testing::FileExists(run + "/" + f)) << f;
  std::ifstream log(run + "/log.csv");
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(line, "epoch,iterations,lr,train_loss,train_acc,val_top1,seconds");
  int rows = 0;
  while (std::getline(log, line)) ++rows;
  EXPECT_EQ(rows, 2);
  auto last = safetensors::ReadFile(run + "/last.safetensors");
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_EQ(last->metadata.at("epoch"), "2");
  EXPECT_EQ(last->tensors.at("backbone.conv1.norm.num_batches_tracked").dtype, "I64");
  // The checkpoint records its labelled training images: eval on them says so.
  EXPECT_EQ(last->metadata.at("training_fingerprint").rfind("pcfp1 size=16 channels=3 images=12 ", 0), 0u);
  const RunResult overlap = RunCli("eval --json --model " + run + "/last.safetensors --data " + dir + "/train");
  ASSERT_EQ(overlap.exit_code, 0) << overlap.err;
  const auto oj = nlohmann::json::parse(overlap.out)["training_overlap"];
  EXPECT_EQ(oj["matched"], 12);
  EXPECT_EQ(oj["significant"], true);
  const RunResult val_eval = RunCli("eval --json --model " + run + "/last.safetensors --data " + dir + "/val");
  ASSERT_EQ(val_eval.exit_code, 0) << val_eval.err;
  EXPECT_EQ(nlohmann::json::parse(val_eval.out)["training_overlap"]["matched"], 0);
  // Resuming a finished run trains nothing more (--resume DIR, or --out DIR --resume); a run
  // is never overwritten without --force; a bad --augment is a one-line error.
  const RunResult again = RunCli("train --input 16 --epochs 2 --data " + dir + "/train --val " + dir + "/val --resume " + run);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  const RunResult flag = RunCli("train --input 16 --epochs 2 --data " + dir + "/train --val " + dir + "/val --out " + run + " --resume");
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  ExpectCliError(RunCli("train --input 16 --epochs 1 --data " + dir + "/train --val " + dir + "/val --out " + run),
                 run + ": holds a run (last.safetensors); give --resume to continue it or --force to start over");
  const RunResult forced = RunCli("train --input 16 --epochs 1 --batch 4 --quiet --data " + dir + "/train --val " + dir + "/val --force --out " + run);
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(forced.err, "") << "--quiet: nothing on stderr";
  EXPECT_NE(forced.out.find("epoch   1/1"), std::string::npos) << forced.out;
  ExpectCliError(RunCli("train --input 16 --augment crop --data " + dir + "/train --val " + dir + "/val --out " + run),
                     "--augment: unknown op 'crop'");
  ExpectCliError(RunCli("train --input 16 --mix blend --data " + dir + "/train --val " + dir + "/val --out " + run), "--mix must be");
}

TEST(Cli, AugmentPreviewWritesAGrid) {
  PCLS_REQUIRE_SHARED("data/vww01-dev/labels.csv");
  const std::string dir = testing::TempDir(), data = SharedPath("data/vww01-dev");
  const RunResult r = RunCli("augment-preview --data " + data + " --out " + dir + "/a.png --n 6 --cols 3 --seed 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto grid = LoadImage(dir + "/a.png");
  ASSERT_TRUE(grid.ok()) << grid.status().message();
  EXPECT_EQ(grid->width, 3 * 96 + 4 * 2);  // 2-pixel gaps
  EXPECT_EQ(grid->height, 2 * 96 + 3 * 2);
  // Same seed, same grid; another seed, another grid.
  ASSERT_EQ(RunCli("augment-preview --data " + data + " --out " + dir + "/b.png --n 6 --cols 3 --seed 2").exit_code, 0);
  ASSERT_EQ(RunCli("augment-preview --data " + data + " --out " + dir + "/c.png --n 6 --cols 3 --seed 3").exit_code, 0);
  EXPECT_EQ(testing::ReadFileBytes(dir + "/a.png"), testing::ReadFileBytes(dir + "/b.png"));
  EXPECT_NE(testing::ReadFileBytes(dir + "/a.png"), testing::ReadFileBytes(dir + "/c.png"));
  ExpectCliError(RunCli("augment-preview --data " + data + " --out " + dir + "/d.png --augment sscma,blur"), "unknown op 'blur'");
  ExpectCliError(RunCli("augment-preview --data " + dir + "/missing --out " + dir + "/d.png"), "missing: not a directory");
}

}  // namespace
}  // namespace personcls
