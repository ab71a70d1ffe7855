// Distillation (src/distill): teachers through the runtime against the TFLite goldens, the
// temperature, ensembles, the unlabeled-image loader, and short distillation runs on a small
// synthetic problem (32x32 inputs, a random personcls checkpoint as the teacher): the student
// approaches the teacher, runs are deterministic, files are written.
#include "distill/distiller.h"
#include "distill/image_pool.h"

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
  void ResumeEqualsUninterrupted(double feature_weight, bool pool_sources = false);
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

TEST_F(DistillSmall, InterruptedAndResumedRunWithPoolSourcesAndLabelsEqualsAnUninterruptedOne) {
  // Per-source cycles and their positions must travel in last_state.safetensors.
  unlabeled_.source_names = {"big", "small"};
  for (size_t i = 0; i < unlabeled_.count(); ++i) {
    unlabeled_.sources.push_back(i < 16 ? 0 : 1);
    unlabeled_.labels[i] = i % 3 == 0 ? static_cast<int32_t>(i % 2) : -1;
  }
  ResumeEqualsUninterrupted(0.0, /*pool_sources=*/true);
}

// The pool's labels are hard labels: a student trained on the pool's labels alone (hard
// weight 1, no labelled set) learns them, whatever the teacher says.
TEST_F(DistillSmall, PoolLabelsAreHardLabels) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  Dataset pool = Synthetic(48, 32, 5);
  for (int32_t& l : pool.labels) l = 1 - l;  // not what the teacher computes
  pool.source_names = {"only"};
  pool.sources.assign(pool.count(), 0);
  Dataset none;
  none.size = 32;
  auto pool_top1 = [&](bool pool_labels) {
    DistillOptions o = Options("");
    o.labeled_per_batch = 0;  // no labelled images at all: pool only
    o.hard_weight = 1.0;
    o.pool_labels = pool_labels;
    o.source_cap = 10;
    o.labeled_area_min = 1.0;
    o.epochs = 12;
    Distiller d(SmallConfig(), o, teachers_, none, &pool, nullptr);
    EXPECT_EQ(d.steps_per_epoch(), 6);
    EXPECT_TRUE(d.Run().ok());
    return EvaluateTop1(d.model(), pool, 16);
  };
  const double with_labels = pool_top1(true), without = pool_top1(false);
  auto teacher = ScoreTeachers(teachers_, pool);
  omp_set_num_threads(threads);
  ASSERT_TRUE(teacher.ok());
  EXPECT_GE(with_labels, 0.85) << "the student learns the pool's labels";
  EXPECT_NEAR(without, (*teacher)[0], 0.2) << "without them it follows the teacher (" << (*teacher)[0] << " on these labels)";
  EXPECT_GT(with_labels, without + 0.15);
}

void DistillSmall::ResumeEqualsUninterrupted(double feature_weight, bool pool_sources) {
  auto options = [&](const std::string& name) {
    DistillOptions o = Options(dir_ + "/" + name);
    o.epochs = 3;
    o.warmup_fraction = 0.2;  // the schedule spans the interruption
    o.mixup = 0.3;
    o.feature_weight = feature_weight;
    if (pool_sources) {
      o.source_cap = 4;
      o.source_weights = {{"small", 2.0}};
      o.pool_labels = true;
      o.hard_weight = 0.3;
    }
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

TEST(LoadImagePool, ScansADirectoryCapsEachSourceAndResizes) {
  const std::string dir = TempDir();
  std::filesystem::create_directories(dir + "/a/deeper");
  std::filesystem::create_directories(dir + "/b");
  for (int i = 0; i < 5; ++i) WritePpm(dir + "/a/" + std::to_string(i) + ".ppm", 20, 10, static_cast<uint8_t>(10 + i));
  WritePpm(dir + "/a/deeper/x.ppm", 8, 8, 99);
  for (int i = 0; i < 2; ++i) WritePpm(dir + "/b/" + std::to_string(i) + ".ppm", 16, 16, static_cast<uint8_t>(50 + i));
  WritePpm(dir + "/top.ppm", 4, 4, 77);
  std::ofstream(dir + "/notes.txt") << "not an image";
  auto all = LoadImagePool(dir, 12, 0, 1);
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->count(), 9u);
  EXPECT_EQ(all->size, 12);
  auto capped = LoadImagePool(dir, 12, 3, 1);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->count(), 3u + 2u + 1u);  // a (6 images, nested ones included) capped at 3
  for (int32_t l : capped->labels) EXPECT_EQ(l, -1);
  EXPECT_EQ(capped->source_names, (std::vector<std::string>{"", "a", "b"}));
  EXPECT_EQ(capped->sources, (std::vector<int32_t>{0, 1, 1, 1, 2, 2}));
  for (size_t i = 0; i < capped->count(); ++i) {  // flat images stay flat after the resize
    const uint8_t* img = capped->image(i);
    EXPECT_EQ(img[0], img[capped->image_bytes() - 1]) << capped->files[i];
  }
  auto again = LoadImagePool(dir, 12, 3, 1);
  EXPECT_EQ(again->files, capped->files) << "the cap's choice depends only on the seed";
  std::ofstream(dir + "/b/broken.png") << "not a png";
  auto broken = LoadImagePool(dir, 12, 0, 1);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("broken.png"), std::string::npos) << broken.status().message();
  EXPECT_FALSE(LoadImagePool(dir + "/missing", 12, 0, 1).ok());
}

TEST(LoadImagePool, ReadsAnIndexCsvWithSourcesAndLabels) {
  const std::string dir = TempDir();
  std::filesystem::create_directories(dir + "/images/rooms");
  std::filesystem::create_directories(dir + "/images/coco");
  for (int i = 0; i < 3; ++i) WritePpm(dir + "/images/rooms/" + std::to_string(i) + ".ppm", 10, 10, static_cast<uint8_t>(i));
  for (int i = 0; i < 2; ++i) WritePpm(dir + "/images/coco/" + std::to_string(i) + ".ppm", 10, 10, static_cast<uint8_t>(100 + i));
  WritePpm(dir + "/images/stray.ppm", 10, 10, 7);  // not in the index: not loaded
  std::ofstream(dir + "/index.csv") << "file,source,person_label,orig_w,orig_h,coco_id\r\n"
                                    << "images/rooms/0.ppm,rooms,,640,480,\n"
                                    << "images/coco/1.ppm,coco,1,640,480,5\n"
                                    << "images/rooms/2.ppm,rooms,,640,480,\n"
                                    << "images/coco/0.ppm,coco,0,640,480,6\n"
                                    << "images/rooms/1.ppm,rooms,,640,480,\n";
  auto pool = LoadImagePool(dir, 8, 0, 1);
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  ASSERT_EQ(pool->count(), 5u);
  EXPECT_EQ(pool->source_names, (std::vector<std::string>{"coco", "rooms"}));
  EXPECT_EQ(pool->sources, (std::vector<int32_t>{0, 0, 1, 1, 1}));
  EXPECT_EQ(pool->labels, (std::vector<int32_t>{0, 1, -1, -1, -1})) << "sorted by path within a source";
  EXPECT_EQ(pool->image(0)[0], 100);
  EXPECT_EQ(pool->image(4)[0], 2);
  auto capped = LoadImagePool(dir, 8, 2, 1);  // the same through a .csv path, capped
  auto by_csv = LoadImagePool(dir + "/index.csv", 8, 2, 1);
  ASSERT_TRUE(capped.ok() && by_csv.ok());
  EXPECT_EQ(capped->count(), 4u);
  EXPECT_EQ(by_csv->files, capped->files);

  // Appending a second pool keeps source names apart.
  Dataset merged = std::move(*pool);
  AppendPool(merged, std::move(*by_csv), "second");
  EXPECT_EQ(merged.count(), 9u);
  EXPECT_EQ(merged.source_names, (std::vector<std::string>{"coco", "rooms", "second/coco", "second/rooms"}));
  EXPECT_EQ(merged.sources.back(), 3);

  auto error = [&](const std::string& text) {
    std::ofstream(dir + "/bad.csv") << text;
    auto r = LoadImagePool(dir + "/bad.csv", 8, 0, 1);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(error("file,source,person_label\nimages/rooms/0.ppm,rooms,2\n").find("bad.csv:2: label '2'"), std::string::npos);
  EXPECT_NE(error("file,source,person_label\nimages/rooms/0.ppm,rooms,yes\n").find("bad.csv:2"), std::string::npos);
  EXPECT_NE(error("name,source\nx.ppm,a\n").find("'file' column"), std::string::npos);
  EXPECT_NE(error("file,source,person_label\nimages/rooms/0.ppm\n").find("bad.csv:2: 1 columns"), std::string::npos);
  EXPECT_NE(error("file,source\nimages/missing.ppm,a\n").find("missing.ppm"), std::string::npos);
  EXPECT_NE(error("").find("empty"), std::string::npos);
}

Dataset PoolOfSources(const std::vector<int>& sizes) {
  Dataset d;
  d.size = 2;
  for (size_t s = 0; s < sizes.size(); ++s) {
    d.source_names.push_back("s" + std::to_string(s));
    for (int i = 0; i < sizes[s]; ++i) {
      d.sources.push_back(static_cast<int32_t>(s));
      d.labels.push_back(-1);
    }
  }
  d.pixels.resize(d.count() * d.image_bytes());
  return d;
}

TEST(PoolSampler, WithoutACapEveryImageOnceACycle) {
  const Dataset pool = PoolOfSources({30, 3});
  std::mt19937_64 rng(5);
  PoolSampler sampler(pool, 0, {}, rng);
  EXPECT_EQ(sampler.segments(), 1u);
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::vector<int> seen(pool.count(), 0);
    for (size_t i = 0; i < pool.count(); ++i) ++seen[sampler.Next(rng)];
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(pool.count())) << "cycle " << cycle;
  }
}

TEST(PoolSampler, SourceCapEqualizesLargeSourcesAndWeightsScale) {
  const Dataset pool = PoolOfSources({400, 4, 40});
  const uint64_t seed = 17;
  std::mt19937_64 rng(seed);
  // Weights min(n, 40) x w: 40, 4, 40 x 2 = 80 of 124.
  PoolSampler sampler(pool, 40, {{"s2", 2.0}}, rng);
  ASSERT_EQ(sampler.segments(), 3u);
  const int draws = 124 * 200;
  std::vector<int> per_source(3, 0), per_image(pool.count(), 0);
  for (int i = 0; i < draws; ++i) {
    const size_t k = sampler.Next(rng);
    ++per_source[pool.sources[k]];
    ++per_image[k];
  }
  const double expected[] = {40.0 / 124, 4.0 / 124, 80.0 / 124};
  const std::vector<SourceShare> shares = SourceShares(pool, 40, {{"s2", 2.0}});
  ASSERT_EQ(shares.size(), 3u);
  for (int s = 0; s < 3; ++s) EXPECT_DOUBLE_EQ(shares[s].share, expected[s]) << s;
  EXPECT_EQ(shares[0].name, "s0");
  EXPECT_EQ(shares[0].images, 400u);
  EXPECT_DOUBLE_EQ(shares[2].weight, 80.0);
  for (int s = 0; s < 3; ++s) EXPECT_NEAR(per_source[s] / static_cast<double>(draws), expected[s], 0.01) << "source " << s << ", seed " << seed;
  // The large source is not capped away: its 400 images are all drawn, each about equally.
  const auto [lo, hi] = std::minmax_element(per_image.begin(), per_image.begin() + 400);
  EXPECT_GE(*lo, 15) << "seed " << seed;
  EXPECT_LE(*hi - *lo, 1) << "whole cycles: images of a source differ by at most one draw";

  std::mt19937_64 rng2(seed);
  PoolSampler without_s1(pool, 40, {{"s1", 0.0}}, rng2);
  EXPECT_EQ(without_s1.segments(), 2u);
  for (int i = 0; i < 500; ++i) EXPECT_NE(pool.sources[without_s1.Next(rng2)], 1);
  EXPECT_THROW(PoolSampler(pool, 40, {{"s0", 0.0}, {"s1", 0.0}, {"s2", 0.0}}, rng2), std::invalid_argument);
}

TEST(PoolSampler, RestoreContinuesTheSameDrawsAndRejectsAnotherPool) {
  const Dataset pool = PoolOfSources({7, 5});
  std::mt19937_64 rng(3);
  PoolSampler a(pool, 5, {}, rng);
  for (int i = 0; i < 9; ++i) a.Next(rng);
  std::mt19937_64 rng_copy = rng, rng_b(99);
  PoolSampler b(pool, 5, {}, rng_b);
  ASSERT_TRUE(b.Restore(a.order(), a.positions()).ok());
  for (int i = 0; i < 40; ++i) EXPECT_EQ(a.Next(rng), b.Next(rng_copy)) << "draw " << i;
  EXPECT_FALSE(b.Restore(std::vector<size_t>(11, 0), b.positions()).ok());
  EXPECT_FALSE(b.Restore(b.order(), {0}).ok());
  EXPECT_FALSE(b.Restore(b.order(), {8, 0}).ok()) << "a position past its cycle";
  std::vector<size_t> swapped = b.order();
  std::swap(swapped.front(), swapped.back());  // images moved across sources
  EXPECT_FALSE(b.Restore(swapped, b.positions()).ok());
}

}  // namespace
}  // namespace personcls
