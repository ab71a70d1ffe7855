// The training loop (src/nn/trainer) and the dataset loader (src/data/dataset): resume gives
// bit-identical weights, the loss falls and validation beats chance on a synthetic set,
// and dataset errors are one line naming the file.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <omp.h>

#include "formats/safetensors/safetensors.h"
#include "data/dataset.h"
#include "nn/trainer.h"
#include "test_util.h"

namespace personcls {
namespace {

// n images size x size RGB: noise on a dark background; class 1 (every other image) has a
// bright square at a random place.
Dataset Synthetic(int n, int size, uint64_t seed) {
  Dataset d;
  d.size = size;
  d.channels = 3;
  d.pixels.resize(static_cast<size_t>(n) * d.image_bytes());
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    uint8_t* p = d.pixels.data() + static_cast<size_t>(i) * d.image_bytes();
    for (size_t j = 0; j < d.image_bytes(); ++j) p[j] = static_cast<uint8_t>(rng() % 60);
    const int label = i % 2;
    if (label) {
      const int s = size / 3, y0 = static_cast<int>(rng() % (size - s)), x0 = static_cast<int>(rng() % (size - s));
      for (int y = y0; y < y0 + s; ++y)
        for (int x = x0; x < x0 + s; ++x)
          for (int c = 0; c < 3; ++c) p[(y * size + x) * 3 + c] = 230;
    }
    d.labels.push_back(label);
    d.files.push_back("synthetic" + std::to_string(i));
  }
  return d;
}

ArchConfig Config(int size) {
  auto a = ArchFromName("mbv2-rep-0.35");
  EXPECT_TRUE(a.ok());
  ArchConfig c = *a;
  c.input_size = size;
  return c;
}

TrainOptions SmallOptions(const std::string& out) {
  TrainOptions o;
  o.epochs = 3;
  o.batch = 7;  // 24 = 3 * 7 + 3: a partial last batch
  o.lr = 0.05;
  o.warmup_iters = 4;
  o.milestones = {2};
  o.seed = 1234;
  o.augment = *ParseAugment("sscma,resized-crop");  // resume must replay the augmentation too
  o.loader_threads = 2;
  o.out_dir = out;
  o.version = "test";
  return o;
}

void ExpectSameStateDict(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, v] : a) {
    auto it = b.find(name);
    ASSERT_NE(it, b.end()) << name;
    ASSERT_EQ(v.size(), it->second.size()) << name;
    EXPECT_EQ(std::memcmp(v.data(), it->second.data(), v.size() * sizeof(float)), 0) << name << " differs";
  }
}

TEST(Trainer, ResumeIsBitIdentical) {
  const Dataset train = Synthetic(24, 16, 1), val = Synthetic(10, 16, 2);
  const std::string dir = testing::TempDir();
  Trainer full(Config(16), SmallOptions(dir + "/full"), train, val);
  ASSERT_TRUE(full.Run().ok());
  EXPECT_EQ(full.epochs_done(), 3);

  {
    Trainer first(Config(16), SmallOptions(dir + "/split"), train, val);
    ASSERT_TRUE(first.Run({}, {}, /*stop_after=*/2).ok());
    EXPECT_EQ(first.epochs_done(), 2);
  }
  Trainer resumed(Config(16), SmallOptions(dir + "/split"), train, val);
  const Status s = resumed.Resume();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(resumed.epochs_done(), 2);
  ASSERT_TRUE(resumed.Run().ok());
  EXPECT_EQ(resumed.epochs_done(), 3);
  ExpectSameStateDict(full.model().ToStateDict(), resumed.model().ToStateDict());

  // The checkpoints on disk agree too (weights, BN buffers, momentum buffers, RNG state).
  for (const char* name : {"last.safetensors", "last_state.safetensors", "best.safetensors"}) {
    auto a = safetensors::ReadFile(dir + "/full/" + name), b = safetensors::ReadFile(dir + "/split/" + name);
    ASSERT_TRUE(a.ok() && b.ok()) << name;
    ASSERT_EQ(a->tensors.size(), b->tensors.size()) << name;
    for (const auto& [k, t] : a->tensors) EXPECT_EQ(t.bytes, b->tensors.at(k).bytes) << name << " " << k;
    EXPECT_EQ(a->metadata, b->metadata) << name;
  }
  auto last = safetensors::ReadFile(dir + "/full/last.safetensors");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->metadata.at("arch"), "mbv2-rep-0.35");
  EXPECT_EQ(last->metadata.at("epoch"), "3");
  EXPECT_EQ(last->tensors.at("backbone.conv1.conv.weight").shape.size(), 4u);
  // log.csv: header + 3 rows in both runs.
  for (const char* run : {"/full", "/split"}) {
    std::ifstream log(dir + run + "/log.csv");
    int lines = 0;
    for (std::string line; std::getline(log, line);) ++lines;
    EXPECT_EQ(lines, 4) << run;
  }
}

TEST(Trainer, WeightsDoNotDependOnThreadCount) {
  const Dataset train = Synthetic(24, 16, 5), val = Synthetic(6, 16, 6);
  const int saved = omp_get_max_threads();
  StateDict results[2];
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    TrainOptions o = SmallOptions("");
    o.loader_threads = threads == 1 ? 0 : 2;  // batches built in the loop vs by 2 workers
    Trainer t(Config(16), o, train, val);
    ASSERT_TRUE(t.Run({}, {}, 2).ok());
    results[threads - 1] = t.model().ToStateDict();
  }
  omp_set_num_threads(saved);
  ExpectSameStateDict(results[0], results[1]);
}

TEST(Trainer, LossFallsAndValidationBeatsChance) {
  const Dataset train = Synthetic(64, 16, 3), val = Synthetic(32, 16, 4);
  TrainOptions o = SmallOptions("");
  o.epochs = 8;
  o.batch = 16;
  o.milestones = {};
  o.augment = AugmentConfig{};
  std::vector<EpochStats> stats;
  Trainer t(Config(16), o, train, val);
  ASSERT_TRUE(t.Run({}, [&](const EpochStats& s) { stats.push_back(s); }).ok());
  ASSERT_EQ(stats.size(), 8u);
  EXPECT_LT(stats.back().train_loss, stats.front().train_loss);
  EXPECT_GT(t.best_val_top1(), 0.6);
  EXPECT_EQ(stats.back().iterations, 8 * 4);
}

TEST(Trainer, MixedBalancedBatchesTrainDeterministically) {
  const Dataset train = Synthetic(20, 16, 7), val = Synthetic(6, 16, 8);
  for (BatchMix mix : {BatchMix::kMixup, BatchMix::kCutmix}) {
    StateDict results[2];
    for (int workers = 0; workers < 2; ++workers) {
      TrainOptions o = SmallOptions("");
      o.epochs = 2;
      o.balanced = true;
      o.mix = mix;
      o.loader_threads = workers;  // batches built in the loop vs by a worker: same batches
      std::vector<EpochStats> stats;
      Trainer t(Config(16), o, train, val);
      ASSERT_TRUE(t.Run({}, [&](const EpochStats& s) { stats.push_back(s); }).ok());
      for (const EpochStats& s : stats) EXPECT_TRUE(std::isfinite(s.train_loss) && s.train_loss > 0);
      results[workers] = t.model().ToStateDict();
    }
    ExpectSameStateDict(results[0], results[1]);
  }
}

TEST(Trainer, RejectsBadOptions) {
  const Dataset train = Synthetic(8, 16, 1);
  TrainOptions o = SmallOptions("");
  o.batch = 1;
  EXPECT_THROW(Trainer(Config(16), o, train, train), std::invalid_argument);
  EXPECT_THROW(Trainer(Config(32), SmallOptions(""), train, train), std::invalid_argument);
}

void WritePpm(const std::string& path, int w, int h, uint8_t value) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << w << " " << h << "\n255\n";
  for (int i = 0; i < w * h * 3; ++i) out.put(static_cast<char>(value));
}

TEST(Dataset, LoadsClassFoldersAndLabelsCsv) {
  const std::string dir = testing::TempDir();
  std::filesystem::create_directories(dir + "/folders/person");
  std::filesystem::create_directories(dir + "/folders/background");
  WritePpm(dir + "/folders/background/a.ppm", 8, 6, 10);
  WritePpm(dir + "/folders/person/b.ppm", 20, 20, 200);
  WritePpm(dir + "/folders/person/c.ppm", 4, 4, 100);
  auto d = LoadDataset(dir + "/folders", 16);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->count(), 3u);
  EXPECT_EQ(d->class_names, (std::vector<std::string>{"background", "person"}));
  EXPECT_EQ(d->labels, (std::vector<int32_t>{0, 1, 1}));
  EXPECT_EQ(d->pixels.size(), 3u * 16 * 16 * 3);
  EXPECT_EQ(d->image(1)[0], 200);

  std::filesystem::create_directories(dir + "/csv");
  WritePpm(dir + "/csv/x.ppm", 5, 5, 1);
  WritePpm(dir + "/csv/y.ppm", 5, 5, 2);
  {
    std::ofstream(dir + "/csv/labels.csv") << "file,label\nx.ppm,1\ny.ppm,0\n";
  }
  auto c = LoadDataset(dir + "/csv", 8);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->labels, (std::vector<int32_t>{1, 0}));
}

TEST(Dataset, ErrorsNameFileAndLine) {
  const std::string dir = testing::TempDir();
  EXPECT_NE(LoadDataset(dir + "/missing").status().message().find("missing: not a directory"), std::string::npos);
  EXPECT_NE(LoadDataset(dir).status().message().find("no labels.csv and no class folders"), std::string::npos);
  WritePpm(dir + "/x.ppm", 5, 5, 1);
  {
    std::ofstream(dir + "/labels.csv") << "file,label\nx.ppm,1\nx.ppm,seven\n";
  }
  EXPECT_NE(LoadDataset(dir).status().message().find("labels.csv: labels mix class indices and class names ('seven')"), std::string::npos);
  {
    std::ofstream(dir + "/labels.csv") << "x.ppm,5\n";
  }
  EXPECT_NE(LoadDataset(dir).status().message().find("labels.csv:1: label 5 out of range"), std::string::npos);
  {
    std::ofstream(dir + "/labels.csv") << "gone.png,1\n";
  }
  const std::string m = LoadDataset(dir).status().message();
  EXPECT_NE(m.find("gone.png: cannot open"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace personcls
