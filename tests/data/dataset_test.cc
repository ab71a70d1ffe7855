// LoadDataset's sources beyond labels.csv and class folders (tested in tests/nn/
// trainer_test.cc): image caches of `vww build` and MLPerf .bin sets; labels.csv with class
// names and absolute paths, and class names matched to a model's labels.
#include "data/dataset.h"

#include <filesystem>
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

TEST(Dataset, LabelsCsvTakesClassNamesAndAbsolutePaths) {
  const std::string dir = testing::TempDir();
  std::ofstream(dir + "/labels.csv") << "image,class\na.ppm,person\n/abs/b.ppm,non_person\nc.ppm,Person\n";
  // No model labels: names in sorted order (as class folders), exact spelling.
  auto sorted = ReadLabelsCsv(dir, 3);
  ASSERT_TRUE(sorted.ok()) << sorted.status().message();
  ASSERT_EQ(sorted->size(), 3u);
  EXPECT_EQ((*sorted)[0].path, dir + "/a.ppm");
  EXPECT_EQ((*sorted)[1].path, "/abs/b.ppm");
  EXPECT_EQ((*sorted)[0].label, 2);  // "Person" < "non_person" < "person" (byte order)
  EXPECT_EQ((*sorted)[1].label, 1);
  EXPECT_EQ((*sorted)[2].label, 0);
  // Model labels: matched ignoring case and punctuation, when every name matches one.
  std::ofstream(dir + "/labels.csv") << "a.ppm,person\nb.ppm,not_a_person\nc.ppm,PERSON\n";
  auto named = ReadLabelsCsv(dir, 2, {"Not a person", "Person"});
  ASSERT_TRUE(named.ok()) << named.status().message();
  EXPECT_EQ((*named)[0].label, 1);
  EXPECT_EQ((*named)[1].label, 0);
  EXPECT_EQ((*named)[2].label, 1);
  // Too many names for the classes, mixed indices and names: one-line errors.
  std::ofstream(dir + "/labels.csv") << "a.ppm,cat\nb.ppm,dog\nc.ppm,cow\n";
  EXPECT_NE(ReadLabelsCsv(dir, 2).status().message().find("labels.csv: 3 class names for a 2-class model"), std::string::npos);
  std::ofstream(dir + "/labels.csv") << "a.ppm,1\nb.ppm,dog\n";
  EXPECT_NE(ReadLabelsCsv(dir, 2).status().message().find("labels mix class indices and class names ('dog')"), std::string::npos);
  // A first line with a non-integer label before integer ones is a header, as before names.
  std::ofstream(dir + "/labels.csv") << "name,cls\na.ppm,1\n";
  auto header = ReadLabelsCsv(dir, 2);
  ASSERT_TRUE(header.ok()) << header.status().message();
  EXPECT_EQ(header->size(), 1u);
}

TEST(Dataset, ClassFoldersMatchModelLabelsByName) {
  const std::string dir = testing::TempDir();
  for (const char* c : {"zebra", "apple"}) {
    std::filesystem::create_directories(dir + "/" + c);
    std::ofstream(dir + "/" + c + "/x.ppm") << "P6\n1 1\n255\nabc";
  }
  auto by_name = ListLabelledFiles(dir, 2, {"Zebra", "Apple"});
  ASSERT_TRUE(by_name.ok()) << by_name.status().message();
  ASSERT_EQ(by_name->size(), 2u);
  EXPECT_EQ((*by_name)[0].path, dir + "/apple/x.ppm");  // folders in sorted order, labels by name
  EXPECT_EQ((*by_name)[0].label, 1);
  EXPECT_EQ((*by_name)[1].label, 0);
  auto sorted = ListLabelledFiles(dir, 2, {"no", "yes"});
  ASSERT_TRUE(sorted.ok());
  EXPECT_EQ((*sorted)[0].label, 0);
  EXPECT_EQ((*sorted)[1].label, 1);
}

}  // namespace
}  // namespace personcls
