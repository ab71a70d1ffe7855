// Distillation (src/distill): teachers through the runtime against the TFLite goldens, the
// temperature, ensembles, the unlabeled-image loader, and short distillation runs on a small
// synthetic problem (32x32 inputs, a random personcls checkpoint as the teacher): the student
// approaches the teacher, runs are deterministic, files are written.
#include "distill/distiller.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/safetensors/safetensors.h"
#include "nn/trainer.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::SharedPath;
using testing::TempDir;

// Golden probabilities of the first `n` dev images (file order of the golden CSV).
std::vector<std::array<float, 2>> GoldenProbs(const std::string& golden, int n) {
  std::ifstream in(SharedPath("golden/" + golden));
  std::vector<std::array<float, 2>> out;
  std::string line;
  while (static_cast<int>(out.size()) < n && std::getline(in, line)) {
    std::istringstream v(line.substr(line.find(',') + 1));
    std::array<float, 2> p{};
    v >> p[0] >> p[1];
    out.push_back(p);
  }
  return out;
}

TEST(Teacher, FloatTeacherMatchesGoldenAndTemperatureSharpensOrFlattens) {
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_float.tflite");
  auto teacher = Teacher::Load(SharedPath("models/mlperf_vww_96_float.tflite"), 3);
  ASSERT_TRUE(teacher.ok()) << teacher.status().message();
  EXPECT_TRUE((*teacher)->outputs_probabilities());
  auto dev = LoadDataset(SharedPath("data/vww01-dev"));
  ASSERT_TRUE(dev.ok()) << dev.status().message();
  const int n = 7;  // labels.csv and the golden list the images in the same (name) order
  const auto golden = GoldenProbs("mlperf_vww_96_float.dev.csv", n);
  std::vector<float> t1(n * 2), t3(n * 2);
  ASSERT_TRUE((*teacher)->Targets(dev->pixels.data(), n, 96, 1.0f, t1.data()).ok());
  ASSERT_TRUE((*teacher)->Targets(dev->pixels.data(), n, 96, 3.0f, t3.data()).ok());
  for (int i = 0; i < n; ++i) {
    EXPECT_NEAR(t1[i * 2], golden[i][0], 1e-5) << i;
    EXPECT_NEAR(t1[i * 2 + 1], golden[i][1], 1e-5) << i;
    // softmax(log p / 3): the log-odds shrink by 3.
    const double lo1 = std::log(static_cast<double>(golden[i][1]) / golden[i][0]);
    const double lo3 = std::log(static_cast<double>(t3[i * 2 + 1]) / t3[i * 2]);
    EXPECT_NEAR(lo3, lo1 / 3, 1e-4) << i;
  }
  // One interpreter gives the same targets as three.
  auto single = Teacher::Load(SharedPath("models/mlperf_vww_96_float.tflite"), 1);
  ASSERT_TRUE(single.ok());
  std::vector<float> s1(n * 2);
  ASSERT_TRUE((*single)->Targets(dev->pixels.data(), n, 96, 1.0f, s1.data()).ok());
  EXPECT_EQ(s1, t1);
  EXPECT_FALSE((*teacher)->Targets(dev->pixels.data(), 1, 64, 1.0f, t1.data()).ok()) << "wrong view size";
}

TEST(Teacher, Int8TeacherAndEnsembleScoresEqualGoldenAccuracy) {
  PCLS_REQUIRE_SHARED("models/tinymaix_vww96_q.tflite");
  std::vector<std::unique_ptr<Teacher>> teachers;
  for (const char* m : {"models/mlperf_vww_96_int8.tflite", "models/tinymaix_vww96_q.tflite"}) {
    auto t = Teacher::Load(SharedPath(m), 2);
    ASSERT_TRUE(t.ok()) << t.status().message();
    teachers.push_back(std::move(t).value());
  }
  auto dev = LoadDataset(SharedPath("data/vww01-dev"));
  ASSERT_TRUE(dev.ok());
  auto scores = ScoreTeachers(teachers, *dev);
  ASSERT_TRUE(scores.ok()) << scores.status().message();
  ASSERT_EQ(scores->size(), 3u);
  EXPECT_NEAR((*scores)[0], 0.856, 1e-9);  // README / goldens: 85.6 % and 86.8 %
  EXPECT_NEAR((*scores)[1], 0.868, 1e-9);
  EXPECT_GT((*scores)[2], 0.80);
  EXPECT_LT((*scores)[2], 1.0);
}

// ---- a small synthetic distillation problem ------------------------------------------------

ArchConfig SmallConfig() {
  auto c = ArchFromName("mbv2-rep-0.35");
  EXPECT_TRUE(c.ok());
  ArchConfig config = *c;
  config.input_size = 32;
  return config;
}

// Images with structure a teacher can respond to: a bright square on a dark background or
// the reverse, at a random place; label 1 for the bright square.
Dataset Synthetic(int count, int size, uint32_t seed) {
  std::mt19937 rng(seed);
  Dataset d;
  d.size = size;
  d.pixels.resize(static_cast<size_t>(count) * d.image_bytes());
  for (int i = 0; i < count; ++i) {
    const int label = i % 2, x0 = static_cast<int>(rng() % (size / 2)), y0 = static_cast<int>(rng() % (size / 2));
    uint8_t* img = d.pixels.data() + i * d.image_bytes();
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        for (int c = 0; c < 3; ++c) {
          const bool in = x >= x0 && x < x0 + size / 2 && y >= y0 && y < y0 + size / 2;
          img[(y * size + x) * 3 + c] = static_cast<uint8_t>((in == (label == 1) ? 200 : 40) + rng() % 30);
        }
    d.labels.push_back(label);
    d.files.push_back("synthetic" + std::to_string(i));
  }
  return d;
}

// A random-init student checkpoint as a teacher: BN statistics settled on `data`, and the
// classifier scaled up so that its outputs are confident and depend on the image.
std::string MakeTeacher(const std::string& dir, const Dataset& data) {
  Mbv2RepModel m(SmallConfig());
  std::mt19937_64 rng(7);
  InitSscmaParameters(m, rng);
  Tensor x({static_cast<int>(data.count()), data.size, data.size, 3});
  for (size_t j = 0; j < data.pixels.size(); ++j) x.data[j] = data.pixels[j] / 255.0f;
  for (int i = 0; i < 4; ++i) m.Forward(x, true);  // running stats move towards batch stats
  StateDict state = m.ToStateDict();
  for (float& v : state.at("head.fc.weight")) v *= 400.0f;
  EXPECT_TRUE(m.LoadStateDict(state).ok());
  const std::string path = dir + "/teacher.safetensors";
  EXPECT_TRUE(SaveModelCheckpoint(path, m, {}).ok());
  return path;
}

class DistillSmall : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    labeled_ = Synthetic(24, 32, 1);
    unlabeled_ = Synthetic(20, 48, 2);  // larger than the input: crops are resized down
    std::fill(unlabeled_.labels.begin(), unlabeled_.labels.end(), -1);
    val_ = Synthetic(10, 32, 3);
    auto t = Teacher::Load(MakeTeacher(dir_, labeled_), 2);
    ASSERT_TRUE(t.ok()) << t.status().message();
    teachers_.push_back(std::move(t).value());
  }
  DistillOptions Options(const std::string& out) const {
    DistillOptions o;
    o.epochs = 10;
    o.batch = 8;
    o.labeled_per_batch = 4;  // 24 / 4 = 6 steps per epoch
    o.warmup_fraction = 0.0;
    o.lr = 5e-3;
    o.seed = 11;
    o.out_dir = out;
    o.recipe = "test";
    return o;
  }
  void ResumeEqualsUninterrupted(double feature_weight);
  std::string dir_;
  Dataset labeled_, unlabeled_, val_;
  std::vector<std::unique_ptr<Teacher>> teachers_;
};

TEST_F(DistillSmall, StudentApproachesTheTeacher) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  Distiller d(SmallConfig(), Options(""), teachers_, labeled_, &unlabeled_, &val_);
  EXPECT_EQ(d.steps_per_epoch(), 6);
  std::vector<DistillEpochStats> stats;
  ASSERT_TRUE(d.Run([&](const DistillEpochStats& s) { stats.push_back(s); }).ok());
  omp_set_num_threads(threads);
  ASSERT_EQ(stats.size(), 10u);
  EXPECT_GT(stats.front().kl, 0.05) << "the teacher is confident, a fresh student is not";
  EXPECT_LT(stats.back().kl, 0.5 * stats.front().kl);
  EXPECT_GE(stats.back().val_top1, 0.0);
  for (const auto& s : stats) EXPECT_TRUE(std::isfinite(s.loss));
}

TEST_F(DistillSmall, TeacherFeaturesAreTheStudentFeaturesOfTheSameNetwork) {
  // The teacher is a checkpoint: its deploy graph's classifier input, averaged over H and W,
  // must be what the train-form model calls its pooled features (eval mode; the fused 3x3
  // convolutions differ from the unfused ones by rounding only).
  ASSERT_EQ(teachers_[0]->feature_dim(), Mbv2RepModel(SmallConfig()).spec().feature_channels);
  Mbv2RepModel m(SmallConfig());
  auto ckpt = safetensors::ReadFile(dir_ + "/teacher.safetensors");
  ASSERT_TRUE(ckpt.ok());
  StateDict state;
  for (const auto& [name, t] : ckpt->tensors) state[name] = t.AsFloat();
  ASSERT_TRUE(m.LoadStateDict(state).ok());
  const int n = 5, C = teachers_[0]->feature_dim();
  Tensor x({n, 32, 32, 3});
  for (size_t j = 0; j < x.data.size(); ++j) x.data[j] = val_.pixels[j] / 255.0f;
  m.Forward(x, false);
  std::vector<float> probs(n * 2), plain(n * 2), features(static_cast<size_t>(n) * C);
  ASSERT_TRUE(teachers_[0]->Targets(val_.pixels.data(), n, 32, 1.0f, probs.data(), features.data()).ok());
  ASSERT_TRUE(teachers_[0]->Targets(val_.pixels.data(), n, 32, 1.0f, plain.data()).ok());
  EXPECT_EQ(probs, plain) << "asking for features does not change the targets";
  double max_abs = 0, max_err = 0;
  for (size_t i = 0; i < features.size(); ++i) {
    max_abs = std::max(max_abs, std::fabs(static_cast<double>(m.features().data[i])));
    max_err = std::max(max_err, std::fabs(static_cast<double>(features[i]) - m.features().data[i]));
  }
  EXPECT_GT(max_abs, 0.01) << "features that are all zero prove nothing";
  EXPECT_LT(max_err, 1e-4 * std::max(1.0, max_abs));
  // The ensemble puts each teacher's features side by side.
  std::vector<std::unique_ptr<Teacher>> two;
  for (int i = 0; i < 2; ++i) two.push_back(std::move(Teacher::Load(dir_ + "/teacher.safetensors", 1).value()));
  EXPECT_EQ(EnsembleFeatureDim(two), 2 * C);
  std::vector<float> both(static_cast<size_t>(n) * 2 * C);
  ASSERT_TRUE(EnsembleTargets(two, val_.pixels.data(), n, 32, 1.0f, probs.data(), both.data()).ok());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < C; ++j) {
      EXPECT_EQ(both[static_cast<size_t>(i) * 2 * C + j], features[static_cast<size_t>(i) * C + j]);
      EXPECT_EQ(both[static_cast<size_t>(i) * 2 * C + C + j], features[static_cast<size_t>(i) * C + j]);
    }
}

TEST_F(DistillSmall, FeatureTermIsLearnedAndChangesTheStudent) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  std::vector<std::vector<float>> finals;
  std::vector<DistillEpochStats> stats;
  for (double beta : {0.0, 1.0}) {
    DistillOptions o = Options("");
    o.feature_weight = beta;
    o.epochs = 30;
    Distiller d(SmallConfig(), o, teachers_, labeled_, &unlabeled_, &val_);
    stats.clear();
    ASSERT_TRUE(d.Run([&](const DistillEpochStats& s) { stats.push_back(s); }).ok());
    StateDict state = d.model().ToStateDict();
    finals.push_back(state.at(d.model().ParameterNames()[0]));  // the stem convolution
    if (beta == 0) {
      for (const auto& s : stats) EXPECT_EQ(s.feature_loss, 0.0);
    }
  }
  omp_set_num_threads(threads);
  ASSERT_EQ(stats.size(), 30u);
  // Standardized targets: a fresh adapter is off by about their variance, 1 per dimension.
  // Batches of 8 make single epochs noisy: the last five are averaged.
  EXPECT_GT(stats.front().feature_loss, 0.5);
  double late_feature = 0, late_kl = 0;
  for (size_t i = stats.size() - 5; i < stats.size(); ++i) late_feature += stats[i].feature_loss / 5, late_kl += stats[i].kl / 5;
  EXPECT_LT(late_feature, 0.75 * stats.front().feature_loss);
  EXPECT_LT(late_kl, 0.6 * stats.front().kl) << "the logits are still learned";
  for (const auto& s : stats) EXPECT_NEAR(s.loss, s.kl + s.feature_loss, 1e-6 * (1 + s.loss));
  EXPECT_NE(finals[0], finals[1]) << "the feature term's gradient reaches the backbone";
}

TEST(Teacher, FeaturesOfTheSharedTeachersAreTheir256PooledChannels) {
  PCLS_REQUIRE_SHARED("models/tinymaix_vww96_q.tflite");
  auto dev = LoadDataset(SharedPath("data/vww01-dev"));
  ASSERT_TRUE(dev.ok());
  const int n = 6;
  std::vector<std::vector<float>> feats;
  // MLPerf ends AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED; TinyMaix CONV_2D 1x1, MEAN: both
  // classifiers read 256 channels (MobileNetV1 0.25).
  for (const char* m : {"models/mlperf_vww_96_float.tflite", "models/mlperf_vww_96_int8.tflite", "models/tinymaix_vww96_f.tflite",
                        "models/tinymaix_vww96_q.tflite"}) {
    auto t = Teacher::Load(SharedPath(m), 2);
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_EQ((*t)->feature_dim(), 256) << m;
    std::vector<float> probs(n * 2), f(n * 256);
    ASSERT_TRUE((*t)->Targets(dev->pixels.data(), n, 96, 1.0f, probs.data(), f.data()).ok());
    for (float v : f) EXPECT_GE(v, 0.0f) << m << ": after ReLU / ReLU6";
    EXPECT_NE(std::vector<float>(f.begin(), f.begin() + 256), std::vector<float>(f.begin() + 256, f.begin() + 512)) << m;
    feats.push_back(std::move(f));
  }
  // int8 features are the float ones up to quantization: strongly correlated.
  for (int pair : {0, 2}) {
    double sxy = 0, sxx = 0, syy = 0, mx = 0, my = 0;
    const auto& a = feats[pair];
    const auto& b = feats[pair + 1];
    for (size_t i = 0; i < a.size(); ++i) mx += a[i], my += b[i];
    mx /= a.size(), my /= b.size();
    for (size_t i = 0; i < a.size(); ++i) sxy += (a[i] - mx) * (b[i] - my), sxx += (a[i] - mx) * (a[i] - mx), syy += (b[i] - my) * (b[i] - my);
    EXPECT_GT(sxy / std::sqrt(sxx * syy), 0.9) << pair;
  }
}

TEST_F(DistillSmall, WritesCheckpointsAndLogAndIsDeterministicAcrossThreads) {
  const int threads = omp_get_max_threads();
  std::vector<std::vector<float>> finals;
  for (int run = 0; run < 3; ++run) {
    omp_set_num_threads(run == 1 ? 1 : 2);
    DistillOptions o = Options(dir_ + "/run" + std::to_string(run));
    o.epochs = 1;
    o.hard_weight = 0.3;
    o.mixup = 0.3;
    o.cutmix = 0.3;
    if (run == 2) o.seed = 12;
    Distiller d(SmallConfig(), o, teachers_, labeled_, &unlabeled_, &val_);
    ASSERT_TRUE(d.Run().ok());
    auto last = safetensors::ReadFile(o.out_dir + "/last.safetensors");
    ASSERT_TRUE(last.ok()) << last.status().message();
    EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/best.safetensors"));
    EXPECT_EQ(last->metadata.at("arch"), "mbv2-rep-0.35");
    EXPECT_EQ(last->metadata.at("input_size"), "32");
    EXPECT_EQ(last->metadata.at("distill"), "test");
    EXPECT_EQ(last->metadata.at("teachers"), "teacher.safetensors");
    finals.push_back(last->tensors.at("head.fc.weight").AsFloat());
    std::ifstream log(o.out_dir + "/log.csv");
    std::string line;
    std::getline(log, line);
    EXPECT_EQ(line, "epoch,iterations,lr,loss,kl,teacher_agreement,val_top1,seconds,feature_loss");
    int rows = 0;
    while (std::getline(log, line)) ++rows;
    EXPECT_EQ(rows, 1);
  }
  omp_set_num_threads(threads);
  EXPECT_EQ(finals[0], finals[1]) << "1 and 2 threads must give the same weights";
  EXPECT_NE(finals[0], finals[2]) << "another seed, another run";
}

TEST_F(DistillSmall, InterruptedAndResumedRunEqualsAnUninterruptedOne) {
  ResumeEqualsUninterrupted(0.0);
}

TEST_F(DistillSmall, InterruptedAndResumedRunWithFeatureTermEqualsAnUninterruptedOne) {
  // The adapter and its optimizer state must travel in last_state.safetensors too.
  ResumeEqualsUninterrupted(0.5);
}

void DistillSmall::ResumeEqualsUninterrupted(double feature_weight) {
  auto options = [&](const std::string& name) {
    DistillOptions o = Options(dir_ + "/" + name);
    o.epochs = 3;
    o.warmup_fraction = 0.2;  // the schedule spans the interruption
    o.mixup = 0.3;
    o.feature_weight = feature_weight;
    return o;
  };
  Distiller whole(SmallConfig(), options("whole"), teachers_, labeled_, &unlabeled_, &val_);
  ASSERT_TRUE(whole.Run().ok());
  {
    Distiller first(SmallConfig(), options("parts"), teachers_, labeled_, &unlabeled_, &val_);
    ASSERT_TRUE(first.Run({}, /*stop_after=*/1).ok());
    EXPECT_EQ(first.epoch(), 1);
  }
  if (feature_weight == 0) {
    // As a build before the feature term wrote it: 8 columns. Resuming upgrades it.
    std::ifstream old(dir_ + "/parts/log.csv");
    std::string header, row;
    std::getline(old, header);
    std::getline(old, row);
    old.close();
    std::ofstream(dir_ + "/parts/log.csv") << "epoch,iterations,lr,loss,kl,teacher_agreement,val_top1,seconds\n"
                                            << row.substr(0, row.rfind(',')) << "\n";
  }
  Distiller second(SmallConfig(), options("parts"), teachers_, labeled_, &unlabeled_, &val_);
  ASSERT_TRUE(second.Resume().ok());
  EXPECT_EQ(second.epoch(), 1);
  ASSERT_TRUE(second.Run().ok());
  auto a = safetensors::ReadFile(dir_ + "/whole/last.safetensors");
  auto b = safetensors::ReadFile(dir_ + "/parts/last.safetensors");
  ASSERT_TRUE(a.ok() && b.ok());
  for (const auto& [name, t] : a->tensors) EXPECT_EQ(t.bytes, b->tensors.at(name).bytes) << name;
  std::ifstream log(dir_ + "/parts/log.csv");
  std::string line;
  int rows = -1;  // the header
  while (std::getline(log, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 8) << "every row has the header's 9 columns: " << line;
  }
  EXPECT_EQ(rows, 3) << "the resumed run appends to the log";

  // Another recipe, or no run at all: one error naming the file.
  DistillOptions other = options("parts");
  other.recipe = "another";
  Distiller changed(SmallConfig(), other, teachers_, labeled_, &unlabeled_, &val_);
  const Status s = changed.Resume();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("last_state.safetensors: the run's recipe differs"), std::string::npos) << s.message();
  Distiller missing(SmallConfig(), options("nothing"), teachers_, labeled_, &unlabeled_, &val_);
  // The state file is the resume point (it holds the weights): its absence is what is named.
  EXPECT_NE(missing.Resume().message().find("nothing/last_state.safetensors: cannot open"), std::string::npos) << missing.Resume().message();
}

TEST_F(DistillSmall, RejectsBadOptionsAndMismatchedTeachers) {
  auto bad = [&](auto edit) {
    DistillOptions o = Options("");
    ArchConfig c = SmallConfig();
    edit(o, c);
    EXPECT_THROW(Distiller(c, o, teachers_, labeled_, &unlabeled_, &val_), std::invalid_argument);
  };
  bad([](DistillOptions& o, ArchConfig&) { o.temperature = 0; });
  bad([](DistillOptions& o, ArchConfig&) { o.labeled_per_batch = 9; });
  bad([](DistillOptions& o, ArchConfig&) { o.hard_weight = 1.5; });
  bad([](DistillOptions& o, ArchConfig&) { o.mixup = 0.7, o.cutmix = 0.7; });
  bad([](DistillOptions& o, ArchConfig&) { o.labeled_area_min = 0; });
  bad([](DistillOptions& o, ArchConfig&) { o.feature_weight = -1; });
  bad([](DistillOptions&, ArchConfig& c) { c.input_size = 40; });  // the teacher takes 32x32
  bad([](DistillOptions&, ArchConfig& c) { c.num_classes = 3; });
  std::vector<std::unique_ptr<Teacher>> none;
  EXPECT_THROW(Distiller(SmallConfig(), Options(""), none, labeled_, nullptr, nullptr), std::invalid_argument);
}

// ---- the unlabeled-image loader ----------------------------------------------------------

void WritePpm(const std::string& path, int w, int h, uint8_t value) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << w << " " << h << "\n255\n";
  out << std::string(static_cast<size_t>(w) * h * 3, static_cast<char>(value));
}

TEST(LoadUnlabeledImages, CapsEachSourceDirectoryAndResizes) {
  const std::string dir = TempDir();
  std::filesystem::create_directories(dir + "/a/deeper");
  std::filesystem::create_directories(dir + "/b");
  for (int i = 0; i < 5; ++i) WritePpm(dir + "/a/" + std::to_string(i) + ".ppm", 20, 10, static_cast<uint8_t>(10 + i));
  WritePpm(dir + "/a/deeper/x.ppm", 8, 8, 99);
  for (int i = 0; i < 2; ++i) WritePpm(dir + "/b/" + std::to_string(i) + ".ppm", 16, 16, static_cast<uint8_t>(50 + i));
  WritePpm(dir + "/top.ppm", 4, 4, 77);
  std::ofstream(dir + "/notes.txt") << "not an image";
  auto all = LoadUnlabeledImages(dir, 12, 0, 1);
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->count(), 9u);
  EXPECT_EQ(all->size, 12);
  auto capped = LoadUnlabeledImages(dir, 12, 3, 1);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->count(), 3u + 2u + 1u);  // a (6 images, nested ones included) capped at 3
  for (int32_t l : capped->labels) EXPECT_EQ(l, -1);
  for (size_t i = 0; i < capped->count(); ++i) {  // flat images stay flat after the resize
    const uint8_t* img = capped->image(i);
    EXPECT_EQ(img[0], img[capped->image_bytes() - 1]) << capped->files[i];
  }
  auto again = LoadUnlabeledImages(dir, 12, 3, 1);
  EXPECT_EQ(again->files, capped->files) << "the cap's choice depends only on the seed";
  std::ofstream(dir + "/b/broken.png") << "not a png";
  auto broken = LoadUnlabeledImages(dir, 12, 0, 1);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("broken.png"), std::string::npos) << broken.status().message();
  EXPECT_FALSE(LoadUnlabeledImages(dir + "/missing", 12, 0, 1).ok());
}

}  // namespace
}  // namespace personcls
