// CLI: explain (Grad-CAM PNG), eval --report (HTML), classify --threshold and its summary.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/tflite/tflite_writer.h"
#include "graph_builder.h"
#include "personcls/image.h"
#include "test_util.h"
#include "tools/cli_run.h"

namespace personcls {
namespace {

using testing::ExpectCliError;
using testing::RunCli;
using testing::RunResult;
using testing::SharedPath;

// input [1,8,8,3] -> CONV 1x1 (3->2, RELU): channel 0 = red, channel 1 = blue -> MEAN ->
// FC -> SOFTMAX (2 outputs: Person = red minus blue) or LOGISTIC (1 output: red - 0.5).
std::string WriteTinyModel(const std::string& dir, int outputs) {
  testing::GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 8, 8, 3});
  const int w = b.Const(DType::kFloat32, {2, 1, 1, 3}, std::vector<float>{1, 0, 0, 0, 0, 1});
  const int a = b.Tensor(DType::kFloat32, {1, 8, 8, 2});
  OpOptions conv;
  conv.activation = Activation::kRelu;
  b.Op(OpType::kConv2D, {in, w, -1}, {a}, conv);
  const int axes = b.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int m = b.Tensor(DType::kFloat32, {1, 2});
  b.Op(OpType::kMean, {a, axes}, {m});
  const int fw = outputs == 2 ? b.Const(DType::kFloat32, {2, 2}, std::vector<float>{-2, 2, 2, -2})
                              : b.Const(DType::kFloat32, {1, 2}, std::vector<float>{1, 0});
  const int fb = outputs == 2 ? b.Const(DType::kFloat32, {2}, std::vector<float>{0, 0}) : b.Const(DType::kFloat32, {1}, std::vector<float>{-0.5f});
  const int z = b.Tensor(DType::kFloat32, {1, outputs});
  b.Op(OpType::kFullyConnected, {m, fw, fb}, {z});
  const int p = b.Tensor(DType::kFloat32, {1, outputs});
  b.Op(outputs == 2 ? OpType::kSoftmax : OpType::kLogistic, {z}, {p});
  b.Inputs({in}).Outputs({p});
  auto bytes = tflite_format::WriteTflite(b.graph());
  EXPECT_TRUE(bytes.ok());
  const std::string path = dir + "/tiny" + std::to_string(outputs) + ".tflite";
  testing::WriteFileBytes(path, *bytes);
  return path;
}

// A w x h RGB image: left half red, right half blue.
std::string WriteHalves(const std::string& path, int w, int h) {
  Image image{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3, 0)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) image.pixels[(static_cast<size_t>(y) * w + x) * 3 + (x < w / 2 ? 0 : 2)] = 255;
  EXPECT_TRUE(WritePng(path, image).ok());
  return path;
}

TEST(CliExplain, WritesHeatmapOfTheInputSizeOnTheEvidence) {
  const std::string dir = testing::TempDir();
  const std::string model = WriteTinyModel(dir, 2), image = WriteHalves(dir + "/halves.png", 30, 13);
  const RunResult r = RunCli("explain --model " + model + " " + image + " --out " + dir + "/p.png --class 1 --alpha 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\tPerson\t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("feature map 8x8x2 (op 0 CONV_2D)"), std::string::npos) << r.out;
  auto heat = LoadImage(dir + "/p.png");
  ASSERT_TRUE(heat.ok()) << heat.status().message();
  EXPECT_EQ(heat->width, 30);
  EXPECT_EQ(heat->height, 13);
  // Person is red minus blue: the CAM is hot (jet red) on the red half, zero (jet dark blue)
  // on the blue half; "Not a person" is the mirror image.
  EXPECT_GT(heat->at(6, 2, 0), 100);
  EXPECT_LT(heat->at(6, 2, 2), 50);
  EXPECT_EQ(heat->at(6, 27, 0), 0);
  EXPECT_GT(heat->at(6, 27, 2), 100);
  ASSERT_EQ(RunCli("explain --model " + model + " " + image + " --out " + dir + "/n.png --class 0 --alpha 1").exit_code, 0);
  auto other = LoadImage(dir + "/n.png");
  ASSERT_TRUE(other.ok());
  EXPECT_GT(other->at(6, 27, 0), 100);
  EXPECT_EQ(other->at(6, 2, 0), 0);
  // Deterministic.
  ASSERT_EQ(RunCli("explain --model " + model + " " + image + " --out " + dir + "/p2.png --class 1 --alpha 1").exit_code, 0);
  EXPECT_EQ(testing::ReadFileBytes(dir + "/p.png"), testing::ReadFileBytes(dir + "/p2.png"));
}

TEST(CliExplain, BadInputsGiveOneLineErrors) {
  const std::string dir = testing::TempDir();
  const std::string model = WriteTinyModel(dir, 2), image = WriteHalves(dir + "/h.png", 8, 8);
  ExpectCliError(RunCli("explain --model " + model + " " + image + " --out " + dir + "/x.png --class 2"), "--class 2 out of range");
  ExpectCliError(RunCli("explain --model " + model + " " + dir + "/nope.png --out " + dir + "/x.png"), "nope.png: cannot open");
  ExpectCliError(RunCli("explain --model " + model + " " + image + " --out " + dir + "/no/x.png"), "no/x.png");
  ExpectCliError(RunCli("explain --model " + model + " " + image + " --out " + dir + "/x.png --score raw"), "--score must be");
  ExpectCliError(RunCli("explain " + image + " --out " + dir + "/x.png --model " + dir + "/h.png"), "h.png");
}

// The MLPerf models on real photos: a heatmap of the photo's size that is not blank, the
// same on every run; the int8 model goes through its float twin.
TEST(CliExplain, ExplainsSharedModelsDeterministically) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_int8.tflite");
  const std::string dir = testing::TempDir(), photo = SharedPath("images/COCO_train2014_000000000250.jpg");
  auto original = LoadImage(photo);
  ASSERT_TRUE(original.ok());
  for (const std::string name : {"mlperf_vww_96_float", "mlperf_vww_96_int8"}) {
    SCOPED_TRACE(name);
    const std::string cmd = "explain --model " + SharedPath("models/" + name + ".tflite") + " " + photo + " --out " + dir + "/";
    const RunResult r = RunCli(cmd + name + ".png");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("float twin") != std::string::npos, name.find("int8") != std::string::npos) << r.out;
    auto heat = LoadImage(dir + "/" + name + ".png");
    ASSERT_TRUE(heat.ok());
    ASSERT_EQ(heat->width, original->width);
    ASSERT_EQ(heat->height, original->height);
    // Non-blank: the overlay changes most pixels and carries many colours.
    int64_t changed = 0;
    std::set<uint32_t> colours;
    for (size_t i = 0; i < heat->pixels.size(); i += 3) {
      changed += heat->pixels[i] != original->pixels[i] || heat->pixels[i + 2] != original->pixels[i + 2];
      colours.insert(uint32_t{heat->pixels[i]} << 16 | uint32_t{heat->pixels[i + 1]} << 8 | heat->pixels[i + 2]);
    }
    EXPECT_GT(changed, static_cast<int64_t>(heat->pixels.size() / 3 / 2));
    EXPECT_GT(colours.size(), 1000u);
    ASSERT_EQ(RunCli(cmd + name + "_again.png").exit_code, 0);
    EXPECT_EQ(testing::ReadFileBytes(dir + "/" + name + ".png"), testing::ReadFileBytes(dir + "/" + name + "_again.png"));
  }
}

TEST(CliReport, EvalWritesTheHtmlReport) {
  PCLS_REQUIRE_SHARED("data/vww01-dev/labels.csv");
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_int8.tflite");
  const std::string dir = testing::TempDir();
  const RunResult r = RunCli("eval --json --model " + SharedPath("models/mlperf_vww_96_int8.tflite") + " --data " +
                             SharedPath("data/vww01-dev") + " --report " + dir + "/report.html");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto bytes = testing::ReadFileBytes(dir + "/report.html");
  const std::string html(bytes.begin(), bytes.end());
  EXPECT_NE(html.find("<b id=\"accuracy\">85.60 %</b> (428 / 500)"), std::string::npos);
  EXPECT_NE(html.find("mlperf_vww_96_int8.tflite"), std::string::npos);
  // The AUC printed equals pair counting over the JSON predictions' Person scores.
  double wins = 0, pairs = 0;
  for (const auto& p : j["predictions"])
    for (const auto& q : j["predictions"])
      if (p["true_index"] == 1 && q["true_index"] == 0) {
        const double a = p["scores"][1], b = q["scores"][1];
        wins += a > b ? 1.0 : a == b ? 0.5 : 0.0;
        pairs += 1;
      }
  char auc[64];
  std::snprintf(auc, sizeof(auc), "AUC: <b id=\"auc\">%.4f</b>", wins / pairs);
  EXPECT_NE(html.find(auc), std::string::npos) << auc;
  // One thumbnail per misclassified image (72 = 500 - 428).
  EXPECT_NE(html.find("Misclassified images (72)"), std::string::npos);
  size_t thumbs = 0;
  for (size_t at = html.find("data:image/png;base64,"); at != std::string::npos; at = html.find("data:image/png;base64,", at + 1)) ++thumbs;
  EXPECT_EQ(thumbs, 72u);
  ExpectCliError(RunCli("eval --model " + SharedPath("models/mlperf_vww_96_int8.tflite") + " --data " + SharedPath("data/vww01-dev") +
                     " --report " + dir + "/missing/r.html"),
              "missing/r.html");
}

TEST(CliClassify, ThresholdDecidesOnThePersonScore) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  const std::string model = SharedPath("models/mlperf_vww_96_float.tflite"), images = SharedPath("images");
  const RunResult plain = RunCli("classify --json --model " + model + " " + images);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  std::vector<double> scores;
  for (const auto& p : nlohmann::json::parse(plain.out)) {
    scores.push_back(p["scores"][1]);
    EXPECT_EQ(p["argmax"], p["label"]);  // no threshold: the label is the argmax
  }
  ASSERT_EQ(scores.size(), 6u);
  std::vector<double> sorted = scores;
  std::sort(sorted.begin(), sorted.end());
  const double t = std::stod(std::to_string((sorted[2] + sorted[3]) / 2));  // as printed: three above, three below
  const RunResult r = RunCli("classify --json --threshold " + std::to_string(t) + " --model " + model + " " + images);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  int persons = 0;
  for (size_t i = 0; i < j.size(); ++i) {
    EXPECT_EQ(j[i]["label"], scores[i] > t ? "Person" : "Not a person");  // the label is the decision
    EXPECT_EQ(j[i]["index"], scores[i] > t ? 1 : 0);
    EXPECT_TRUE(j[i].contains("raw") && j[i].contains("argmax") && j[i].contains("threshold"));
    persons += scores[i] > t;
  }
  EXPECT_EQ(persons, 3);
  const RunResult text = RunCli("classify --threshold " + std::to_string(t) + " --model " + model + " " + images);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(std::count(text.out.begin(), text.out.end(), '\n'), 7);
  EXPECT_NE(text.out.find("\n6 images, 3 persons, 0 errors\n"), std::string::npos) << text.out;
}

TEST(CliClassify, SigmoidModelsAndSummaryWithErrors) {
  const std::string dir = testing::TempDir();
  const std::string model = WriteTinyModel(dir, 1);
  std::filesystem::create_directories(dir + "/imgs/sub");
  Image red{4, 4, 3, std::vector<uint8_t>(48, 0)}, dark = red;
  for (int i = 0; i < 16; ++i) red.pixels[i * 3] = 255;  // p = sigmoid(1 - 0.5) = 0.62
  ASSERT_TRUE(WritePng(dir + "/imgs/red.png", red).ok());
  ASSERT_TRUE(WritePng(dir + "/imgs/sub/dark.png", dark).ok());  // p = sigmoid(-0.5) = 0.38
  testing::WriteFileBytes(dir + "/imgs/sub/broken.png", {0x89, 'P', 'N', 'G'});
  const RunResult r = RunCli("classify --model " + model + " " + dir + "/imgs");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("red.png\tPerson\t0.6225"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dark.png\tNot a person\t0.6225"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 images, 1 persons, 1 errors"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("broken.png"), std::string::npos) << r.err;
  const RunResult high = RunCli("classify --json --threshold 0.7 --model " + model + " " + dir + "/imgs/red.png");
  ASSERT_EQ(high.exit_code, 0) << high.err;
  EXPECT_EQ(nlohmann::json::parse(high.out)[0]["label"], "Not a person");
  EXPECT_EQ(nlohmann::json::parse(high.out)[0]["argmax"], "Person");
  // Grad-CAM works on the single sigmoid output too.
  const RunResult heat = RunCli("explain --model " + model + " " + dir + "/imgs/red.png --out " + dir + "/h.png");
  ASSERT_EQ(heat.exit_code, 0) << heat.err;
  EXPECT_NE(heat.out.find("\tPerson\t"), std::string::npos) << heat.out;
}

TEST(CliClassify, ThresholdNeedsABinaryModel) {
  PCLS_REQUIRE_SHARED("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite");
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  ExpectCliError(RunCli("classify --threshold 0.5 --model " + SharedPath("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite") + " " +
                     SharedPath("images/COCO_train2014_000000000250.jpg")),
              "--threshold needs a binary model");
}

}  // namespace
}  // namespace personcls
