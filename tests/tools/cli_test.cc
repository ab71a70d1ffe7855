// The personcls CLI end to end: runs build/personcls as a user would.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/tflite/tflite_writer.h"
#include "personcls/model.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::SharedPath;

struct RunResult {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};

RunResult RunCli(const std::string& args) {
  // Output files go next to (not into) the test's TempDir(), which callers fill with inputs.
  static int call = 0;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string tag = std::string(info->test_suite_name()) + "." + info->name() + "." + std::to_string(call++);
  for (char& c : tag)
    if (c == '/') c = '_';
  const std::string dir = std::string(PERSONCLS_BINARY_DIR) + "/test_tmp/cli_runs/" + tag;
  std::filesystem::create_directories(dir);
  const std::string cmd = std::string(PERSONCLS_BINARY_DIR) + "/personcls " + args + " >" + dir + "/out 2>" + dir + "/err";
  const int status = std::system(cmd.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir + "/out"), slurp(dir + "/err")};
}

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

void ExpectOneLineError(const RunResult& r, const std::string& fragment) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
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
  ExpectOneLineError(bad, "3 labels but the model has 2 outputs");
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
  ExpectOneLineError(RunCli("info --arch mbv2-rep-3.0"), "unknown architecture 'mbv2-rep-3.0'");
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
  ExpectOneLineError(RunCli("info --model " + dir + "/empty.tflite"), "empty.tflite: empty file");
  ExpectOneLineError(RunCli("info --model " + dir + "/missing.tflite"), "missing.tflite: cannot open");
  ExpectOneLineError(RunCli("info --model " + dir), "is a directory");
  if (!testing::HaveShared()) return;
  const std::string model = SharedPath("models/mlperf_vww_96_int8.tflite");
  auto jpeg = testing::ReadFileBytes(SharedPath("images/COCO_train2014_000000000250.jpg"));
  jpeg.resize(jpeg.size() / 2);
  testing::WriteFileBytes(dir + "/half.jpg", jpeg);
  const RunResult r = RunCli("classify --model " + model + " " + dir + "/half.jpg");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("half.jpg"), std::string::npos) << r.err;
  ExpectOneLineError(RunCli("eval --model " + model + " --data " + dir), "labels.csv: cannot open");
  std::ofstream(dir + "/labels.csv") << "file,label\nx.bin,seven\n";
  ExpectOneLineError(RunCli("eval --model " + model + " --data " + dir), "labels.csv:2: label 'seven' is not an integer");
  ExpectOneLineError(RunCli("bench --runs 0 --model " + model), "--runs must be");
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
  ExpectOneLineError(RunCli("classify --model " + dir + "/bad.tflite " + image), "metadata 'normalization'");
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

}  // namespace
}  // namespace personcls
