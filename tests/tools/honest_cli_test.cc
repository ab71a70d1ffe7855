// Answers that do not mislead: classify's label is its decision, eval says when it scores
// training images, eval reads every dataset form train reads, info gives the microcontroller
// figures, and the long commands take --quiet / --verbose.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "personcls/default_model.h"
#include "test_util.h"
#include "tools/cli_run.h"

namespace personcls {
namespace {

namespace fs = std::filesystem;
using testing::ExpectCliError;
using testing::RunCli;
using testing::RunResult;
using testing::SharedPath;

TEST(HonestCli, ThresholdDecidesTheLabelEverywhere) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  const std::string images = SharedPath("images");
  const RunResult plain = RunCli("classify --json " + images);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  // Threshold 0: every image is Person, whatever the argmax; the text line agrees.
  const RunResult all = RunCli("classify --json --threshold 0 " + images);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const auto pj = nlohmann::json::parse(plain.out), aj = nlohmann::json::parse(all.out);
  ASSERT_EQ(aj.size(), 6u);
  int argmax_negative = 0;
  for (size_t i = 0; i < aj.size(); ++i) {
    EXPECT_EQ(aj[i]["label"], "Person");
    EXPECT_EQ(aj[i]["index"], 1);
    EXPECT_EQ(aj[i]["threshold"], 0.0);
    EXPECT_EQ(aj[i]["argmax"], pj[i]["label"]) << "argmax is the label without --threshold";
    EXPECT_FALSE(aj[i].contains("decision"));
    argmax_negative += aj[i]["argmax"] == "Not a person";
  }
  EXPECT_GT(argmax_negative, 0) << "the test needs an image whose argmax is Not a person";
  const RunResult text = RunCli("classify --threshold 0 " + SharedPath("images/COCO_train2014_000000000250.jpg"));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("\tPerson\t"), std::string::npos) << text.out;
  // The probability printed is the label's: P(Person).
  EXPECT_NEAR(std::stod(text.out.substr(text.out.rfind('\t') + 1)), aj[0]["person_score"].get<double>(), 1e-4);
  for (const char* t : {"1.5", "-0.1", "nan"})
    ExpectCliError(RunCli(std::string("classify --threshold ") + t + " " + images), "--threshold must be in [0, 1]");
  ExpectCliError(RunCli("eval --threshold 2 --data " + images), "--threshold must be in [0, 1]");
}

// The embedded model never saw vww01-dev (it is distilled from the image pools alone), so
// eval finds no overlap there; the same model stamped with vww01-dev as its training set
// makes eval warn, in text, JSON and the report.
TEST(HonestCli, EvalWarnsOnTrainingImages) {
  PCLS_REQUIRE_SHARED("data/vww01-dev/labels.csv");
  const std::string dev = SharedPath("data/vww01-dev");
  const RunResult clean = RunCli("eval --json --quiet --data " + dev);
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  const auto cj = nlohmann::json::parse(clean.out);
  ASSERT_TRUE(cj["training_overlap"].is_object()) << "the embedded model carries a training fingerprint";
  EXPECT_EQ(cj["training_overlap"]["matched"], 0);
  EXPECT_GT(cj["training_overlap"]["checked"].get<int>(), 0);
  EXPECT_EQ(cj["training_overlap"]["significant"], false);
  EXPECT_EQ(cj["accuracy_estimate"], DefaultModelInfo().accuracy);
  const RunResult clean_text = RunCli("eval --data " + dev);
  ASSERT_EQ(clean_text.exit_code, 0) << clean_text.err;
  EXPECT_EQ(clean_text.out.find("WARNING"), std::string::npos) << clean_text.out;
  EXPECT_NE(clean_text.out.find("overlap:  "), std::string::npos) << clean_text.out;

  const std::string dir = testing::TempDir();
  const std::string stamped = dir + "/stamped.tflite";
  const RunResult exported = RunCli("export --quiet --format tflite --train-data " + dev + " --out " + stamped);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const RunResult text = RunCli("eval --model " + stamped + " --data " + dev);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("WARNING:  500 of 500 evaluated images (100.0 %) are in the model's training set"), std::string::npos)
      << text.out;
  const RunResult json = RunCli("eval --json --quiet --model " + stamped + " --data " + dev);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.err, "");
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["training_overlap"]["matched"], 500);
  EXPECT_EQ(j["training_overlap"]["checked"], 500);
  EXPECT_EQ(j["training_overlap"]["significant"], true);
  // The report says it too.
  const RunResult report = RunCli("eval --quiet --model " + stamped + " --data " + dev + " --report " + dir + "/r.html");
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::vector<uint8_t> html = testing::ReadFileBytes(dir + "/r.html");
  const std::string page(html.begin(), html.end());
  EXPECT_NE(page.find("id=\"overlap-warning\""), std::string::npos);
  EXPECT_NE(page.find("500 of 500 evaluated images"), std::string::npos);
  EXPECT_NE(page.find("id=\"sha256\""), std::string::npos);
  EXPECT_NE(page.find("eval --quiet --model"), std::string::npos) << "the command line";
  // info names the fingerprint.
  const RunResult info = RunCli("info --model " + stamped);
  EXPECT_NE(info.out.find("trained on:   500 training images (96x96x3 pixels), every one in the fingerprint"), std::string::npos)
      << info.out;
}

// Class folders and labels.csv with class names, matched to the model's labels by name, and
// absolute paths; the shared images are not training images.
TEST(HonestCli, EvalReadsEveryDatasetForm) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  const std::string dir = testing::TempDir();
  // TinyMaix's samples: 389, 1943 and 2992 show people; 250, 384 and 1111 do not.
  const std::vector<std::pair<std::string, bool>> images = {{"389", true},  {"1943", true}, {"2992", true},
                                                            {"250", false}, {"384", false}, {"1111", false}};
  // Labels "zebra" (class 0, no person) and "apple" (class 1, person): sorted names would
  // swap them, so only matching by name scores well.
  fs::create_directories(dir + "/folders/zebra");
  fs::create_directories(dir + "/folders/apple");
  fs::create_directories(dir + "/csv");
  std::ofstream csv(dir + "/csv/labels.csv");
  csv << "file,label\n";
  for (const auto& [id, person] : images) {
    const std::string name = std::string("COCO_train2014_") + std::string(12 - id.size(), '0') + id + ".jpg";
    fs::copy_file(SharedPath("images/" + name), dir + "/folders/" + (person ? "apple/" : "zebra/") + name);
    csv << SharedPath("images/" + name) << "," << (person ? "apple" : "Zebra") << "\n";  // absolute paths, any case
  }
  csv.close();
  for (const char* form : {"/folders", "/csv"}) {
    const RunResult r = RunCli(std::string("eval --json --labels zebra,apple --data ") + dir + form);
    ASSERT_EQ(r.exit_code, 0) << form << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["images"], 6);
    EXPECT_GE(j["accuracy"].get<double>(), 4.0 / 6) << form;
    EXPECT_EQ(j["training_overlap"]["matched"], 0) << form;
  }
  std::ofstream(dir + "/csv/labels.csv", std::ios::app) << "x.jpg,1\n";
  ExpectCliError(RunCli("eval --data " + dir + "/csv"), "labels mix class indices and class names");
}

TEST(HonestCli, InfoShowsHostAndMicrocontrollerFigures) {
  const RunResult r = RunCli("info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["flash_bytes"], DefaultModelTflite().size());
  EXPECT_GT(j["reference_arena_bytes"].get<int64_t>(), 0);
  EXPECT_LT(j["reference_arena_bytes"].get<int64_t>(), j["arena_bytes"].get<int64_t>()) << "the AVX2 kernels add int16 scratch";
  EXPECT_EQ(j["tflm_ops"], (nlohmann::json{"AddPad", "AddConv2D", "AddMean", "AddReshape", "AddFullyConnected", "AddSoftmax"}));
  const RunResult ref = RunCli("info --json --kernels ref");
  EXPECT_EQ(nlohmann::json::parse(ref.out)["arena_bytes"], j["reference_arena_bytes"]);
  const RunResult text = RunCli("info");
  for (const char* s : {"MCU (ref):    arena ", "flash:        ", "TFLM ops:     6 to register: AddPad, AddConv2D"})
    EXPECT_NE(text.out.find(s), std::string::npos) << s << "\n" << text.out;
}

TEST(HonestCli, LongCommandsTakeQuietAndVerbose) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  const RunResult verbose = RunCli("classify --verbose " + SharedPath("images"));
  ASSERT_EQ(verbose.exit_code, 0) << verbose.err;
  EXPECT_NE(verbose.err.find("classify: ["), std::string::npos) << verbose.err;
  EXPECT_NE(verbose.err.find("6/6"), std::string::npos) << verbose.err;
  const RunResult both = RunCli("classify --quiet --verbose " + SharedPath("images"));
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;
  for (const char* cmd : {"classify", "eval", "train", "distill", "quantize", "export", "vww build"}) {
    const RunResult help = RunCli(std::string(cmd) + " --help");
    EXPECT_NE(help.out.find("--quiet"), std::string::npos) << cmd;
    EXPECT_NE(help.out.find("--verbose"), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace personcls
