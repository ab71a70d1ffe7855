// LoadDataset's sources beyond labels.csv and class folders (tested in tests/nn/
// trainer_test.cc): image caches of `vww build` and MLPerf .bin sets.
#include "data/dataset.h"

#include <fstream>

#include "data/image_cache.h"
#include "personcls/image.h"
#include "test_util.h"

namespace personcls {
namespace {

ImageCache Cache(int count, int size, int channels) {
  ImageCache c;
  c.height = c.width = size;
  c.channels = channels;
  for (int i = 0; i < count; ++i) {
    std::string file = "train2014/x";
    file.append(std::to_string(i)).append(".jpg");
    c.records.push_back({100 + i, file, i % 2, 640, 480});
  }
  c.pixels.resize(count * c.record_bytes());
  for (size_t j = 0; j < c.pixels.size(); ++j) c.pixels[j] = static_cast<uint8_t>(j * 7 % 251);
  return c;
}

TEST(Dataset, LoadsAnImageCacheByPrefixOrFileName) {
  const std::string dir = testing::TempDir();
  const ImageCache c = Cache(5, 12, 3);
  ASSERT_TRUE(WriteImageCache(dir + "/train", c).ok());
  EXPECT_TRUE(IsImageCachePath(dir + "/train"));
  EXPECT_FALSE(IsImageCachePath(dir + "/val"));
  for (const std::string& path : {dir + "/train", dir + "/train.pcache"}) {
    auto d = LoadDataset(path, 12, 2, false);
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_EQ(d->count(), 5u);
    EXPECT_EQ(d->labels, (std::vector<int32_t>{0, 1, 0, 1, 0}));
    EXPECT_EQ(d->files[3], "train2014/x3.jpg");
    EXPECT_EQ(d->pixels, c.pixels);  // same size and channels: the cache's pixels as they are
  }
  // Another input size or gray: each record converted and resized like a decoded image.
  auto small = LoadDataset(dir + "/train", 8, 2, true);
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_EQ(small->channels, 1);
  Image rec;
  rec.width = rec.height = 12;
  rec.channels = 3;
  rec.pixels.assign(c.image(4), c.image(4) + c.record_bytes());
  const Image want = ResizeBilinear(ToGray(rec), 8, 8);
  EXPECT_TRUE(std::equal(want.pixels.begin(), want.pixels.end(), small->image(4)));
}

TEST(Dataset, CacheLabelsOutOfRangeAreAnError) {
  const std::string dir = testing::TempDir();
  ImageCache c = Cache(3, 4, 3);
  c.records[2].label = 5;
  ASSERT_TRUE(WriteImageCache(dir + "/val", c).ok());
  auto d = LoadDataset(dir + "/val", 4, 2, false);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("val.index.csv: record 3: label 5 out of range"), std::string::npos) << d.status().message();
}

TEST(Dataset, LoadsAnMlperfBinSet) {
  // labels.csv + raw 96x96x3 .bin files, the layout of vww01-dev.
  const std::string dir = testing::TempDir();
  std::vector<uint8_t> raw(96 * 96 * 3);
  for (size_t j = 0; j < raw.size(); ++j) raw[j] = static_cast<uint8_t>(j % 253);
  testing::WriteFileBytes(dir + "/a.bin", raw);
  std::ofstream(dir + "/labels.csv") << "file,label\na.bin,1\n";
  auto d = LoadDataset(dir, 96, 2, false);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->labels, (std::vector<int32_t>{1}));
  EXPECT_EQ(d->pixels, raw);
}

TEST(Dataset, LoadsVww01Dev) {
  PCLS_REQUIRE_SHARED("data/vww01-dev/labels.csv");
  auto d = LoadDataset(testing::SharedPath("data/vww01-dev"), 96, 2, false);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->count(), 500u);
  EXPECT_EQ(std::count(d->labels.begin(), d->labels.end(), 1), 250);
}

}  // namespace
}  // namespace personcls
