#include "data/image_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"

namespace personcls {
namespace {

using testing::ReadFileBytes;
using testing::TempDir;
using testing::WriteFileBytes;

ImageCache MakeCache(int count, int height, int width, int channels, uint32_t seed) {
  ImageCache cache;
  cache.height = height;
  cache.width = width;
  cache.channels = channels;
  std::mt19937 rng(seed);
  for (int i = 0; i < count; ++i) {
    ImageCacheRecord r;
    r.image_id = 1000000000000LL + i * 7;  // beyond int32: ids are int64
    r.file = "train2014/COCO_train2014_" + std::to_string(i) + ".jpg";
    r.label = static_cast<int32_t>(rng() % 2);
    r.orig_width = 320 + i;
    r.orig_height = 240 + 2 * i;
    cache.records.push_back(r);
  }
  cache.pixels.resize(cache.records.size() * cache.record_bytes());
  for (uint8_t& p : cache.pixels) p = static_cast<uint8_t>(rng());
  return cache;
}

void ExpectSameCache(const ImageCache& a, const ImageCache& b) {
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.channels, b.channels);
  ASSERT_EQ(a.records.size(), b.records.size());
  for (size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].image_id, b.records[i].image_id) << i;
    EXPECT_EQ(a.records[i].file, b.records[i].file) << i;
    EXPECT_EQ(a.records[i].label, b.records[i].label) << i;
    EXPECT_EQ(a.records[i].orig_width, b.records[i].orig_width) << i;
    EXPECT_EQ(a.records[i].orig_height, b.records[i].orig_height) << i;
  }
  EXPECT_TRUE(a.pixels == b.pixels);
}

std::string ReadText(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  return std::string(bytes.begin(), bytes.end());
}

void WriteText(const std::string& path, const std::string& text) { WriteFileBytes(path, std::vector<uint8_t>(text.begin(), text.end())); }

TEST(ImageCache, RoundTripRgbAndGray) {
  const std::string dir = TempDir();
  for (int channels : {3, 1}) {
    const std::string prefix = dir + "/split" + std::to_string(channels);
    const ImageCache cache = MakeCache(5, 7, 11, channels, 42 + channels);  // odd sizes
    ASSERT_TRUE(WriteImageCache(prefix, cache).ok());
    auto back = ReadImageCache(prefix);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ExpectSameCache(cache, *back);
    EXPECT_EQ(std::filesystem::file_size(prefix + ".pcache"), 64 + 5 * 7 * 11 * channels);
  }
  // The documented layout: header fields little-endian, record i at 64 + i * record_bytes.
  const auto bytes = ReadFileBytes(dir + "/split3.pcache");
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "PCLSCAC1");
  EXPECT_EQ(bytes[8], 1);   // version
  EXPECT_EQ(bytes[12], 5);  // count
  EXPECT_EQ(bytes[16], 7);  // height
  EXPECT_EQ(bytes[20], 11);  // width
  EXPECT_EQ(bytes[24], 3);   // channels
  const ImageCache cache = MakeCache(5, 7, 11, 3, 45);
  EXPECT_EQ(bytes[64 + 2 * cache.record_bytes() + 4], cache.image(2)[4]);
  const std::string index = ReadText(dir + "/split3.index.csv");
  EXPECT_EQ(index.substr(0, index.find('\n')), "image_id,file,label,orig_width,orig_height");
  EXPECT_NE(index.find("\n1000000000014,train2014/COCO_train2014_2.jpg,"), std::string::npos);
}

TEST(ImageCache, EmptySplitRoundTrips) {
  const std::string prefix = TempDir() + "/empty";
  ASSERT_TRUE(WriteImageCache(prefix, MakeCache(0, 96, 96, 3, 1)).ok());
  auto back = ReadImageCache(prefix);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->records.empty());
  EXPECT_EQ(back->height, 96);
}

TEST(ImageCache, StreamingWriterAppearsOnlyOnCommit) {
  const std::string prefix = TempDir() + "/train";
  const ImageCache cache = MakeCache(3, 4, 4, 3, 7);
  {
    ImageCacheWriter writer;
    ASSERT_TRUE(writer.Open(prefix, 4, 4, 3).ok());
    ASSERT_TRUE(writer.Append(cache.records[0], cache.image(0)).ok());
    EXPECT_FALSE(std::filesystem::exists(prefix + ".pcache"));
    // Destroyed without Commit: nothing is left, not even the temporaries.
  }
  EXPECT_TRUE(std::filesystem::is_empty(std::filesystem::path(prefix).parent_path()));
  ImageCacheWriter writer;
  ASSERT_TRUE(writer.Open(prefix, 4, 4, 3).ok());
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(writer.Append(cache.records[i], cache.image(i)).ok());
  ASSERT_TRUE(writer.Commit().ok());
  auto back = ReadImageCache(prefix);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSameCache(cache, *back);
}

TEST(ImageCache, WriterRejectsBadInput) {
  const std::string prefix = TempDir() + "/bad";
  ImageCache cache = MakeCache(2, 4, 4, 3, 7);
  cache.pixels.pop_back();
  EXPECT_FALSE(WriteImageCache(prefix, cache).ok());
  cache = MakeCache(2, 4, 4, 3, 7);
  cache.records[1].file = "a,b.jpg";
  Status st = WriteImageCache(prefix, cache);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("a,b.jpg"), std::string::npos) << st.message();
  EXPECT_FALSE(std::filesystem::exists(prefix + ".pcache"));
  cache = MakeCache(2, 4, 4, 2, 7);
  EXPECT_FALSE(WriteImageCache(prefix, cache).ok());  // 2 channels
  EXPECT_FALSE(std::filesystem::exists(prefix + ".index.csv"));
}

TEST(ImageCache, FailedRewriteKeepsPreviousCache) {
  const std::string prefix = TempDir() + "/val";
  const ImageCache good = MakeCache(2, 4, 4, 3, 3);
  ASSERT_TRUE(WriteImageCache(prefix, good).ok());
  ImageCache bad = MakeCache(3, 4, 4, 3, 4);
  bad.records[2].file = "";
  ASSERT_FALSE(WriteImageCache(prefix, bad).ok());
  auto back = ReadImageCache(prefix);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSameCache(good, *back);
}

class ImageCacheCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = TempDir() + "/train";
    ASSERT_TRUE(WriteImageCache(prefix_, MakeCache(4, 6, 5, 3, 9)).ok());
    data_ = ReadFileBytes(prefix_ + ".pcache");
    index_ = ReadText(prefix_ + ".index.csv");
  }
  // Reads the cache and returns the error (failing the test when it reads fine).
  std::string ErrorOf() {
    auto r = ReadImageCache(prefix_);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "one line";
    return r.status().message();
  }
  std::string prefix_;
  std::vector<uint8_t> data_;
  std::string index_;
};

TEST_F(ImageCacheCorrupt, EveryTruncationOfTheDataFileIsRejected) {
  // Every length through the header, then a stride through the records (each prefix is a
  // file write; all 424 would only cost time).
  for (size_t len = 0; len < data_.size(); len += len < 72 ? 1 : 7) {
    WriteFileBytes(prefix_ + ".pcache", std::vector<uint8_t>(data_.begin(), data_.begin() + len));
    const std::string error = ErrorOf();
    EXPECT_NE(error.find(prefix_ + ".pcache"), std::string::npos) << error;
    if (len >= 64) {
      EXPECT_NE(error.find("truncated"), std::string::npos) << error;
    }
  }
  data_.push_back(0);
  WriteFileBytes(prefix_ + ".pcache", data_);
  EXPECT_NE(ErrorOf().find("trailing data"), std::string::npos);
}

TEST_F(ImageCacheCorrupt, BadMagicVersionAndShape) {
  auto with = [&](size_t offset, uint8_t value) {
    auto bytes = data_;
    bytes[offset] = value;
    WriteFileBytes(prefix_ + ".pcache", bytes);
    return ErrorOf();
  };
  EXPECT_NE(with(0, 'X').find("bad magic"), std::string::npos);
  EXPECT_NE(with(8, 2).find("unsupported version 2"), std::string::npos);
  EXPECT_NE(with(24, 4).find("channel count 4"), std::string::npos);
  EXPECT_NE(with(16, 0).find("invalid image size"), std::string::npos);
  EXPECT_NE(with(19, 0x80).find("invalid image size"), std::string::npos);  // height 2^31 + 6
  EXPECT_NE(with(40, 1).find("reserved"), std::string::npos);
  // A count that disagrees with the file size (as a crafted header would) is caught before
  // anything is allocated for it.
  EXPECT_NE(with(15, 0xFF).find("truncated"), std::string::npos);
}

TEST_F(ImageCacheCorrupt, HeaderAndIndexCountMismatch) {
  // Drop the last index line: 4 records in the header, 3 in the index.
  std::string shorter = index_.substr(0, index_.rfind('\n', index_.size() - 2) + 1);
  WriteText(prefix_ + ".index.csv", shorter);
  EXPECT_EQ(ErrorOf(), prefix_ + ".pcache: 4 records in header, 3 in index");
  WriteText(prefix_ + ".index.csv", index_ + "99,x.jpg,1,5,5\n");
  EXPECT_EQ(ErrorOf(), prefix_ + ".pcache: 4 records in header, 5 in index");
}

TEST_F(ImageCacheCorrupt, MalformedIndexLinesNameFileAndLine) {
  const std::string where = prefix_ + ".index.csv:3: ";
  auto with_line3 = [&](const std::string& line) {
    std::string text = index_;
    const size_t start = text.find('\n', text.find('\n') + 1) + 1;
    const size_t end = text.find('\n', start);
    text.replace(start, end - start, line);
    WriteText(prefix_ + ".index.csv", text);
    return ErrorOf();
  };
  EXPECT_EQ(with_line3("7,a.jpg,1,5"), where + "expected 5 fields (image_id,file,label,orig_width,orig_height), got 4");
  EXPECT_EQ(with_line3("7,a.jpg,1,5,5,9"), where + "more than 5 fields");
  EXPECT_EQ(with_line3("x7,a.jpg,1,5,5"), where + "image_id 'x7' is not an integer");
  EXPECT_EQ(with_line3("7,a.jpg,one,5,5"), where + "label 'one' is not an integer");
  EXPECT_EQ(with_line3("7,a.jpg,1,0,5"), where + "invalid original size '0x5'");
  EXPECT_EQ(with_line3("7,,1,5,5"), where + "empty file name");
  // What the writer refuses, the reader refuses (found by fuzz_image_cache).
  EXPECT_EQ(with_line3("7,train2\r014/a.jpg,1,5,5"), where + "file name holds '\"' or a carriage return");
  EXPECT_EQ(with_line3("7,a\"b.jpg,1,5,5"), where + "file name holds '\"' or a carriage return");
  WriteText(prefix_ + ".index.csv", "id,file\n");
  EXPECT_NE(ErrorOf().find(":1: expected header"), std::string::npos);
  std::filesystem::remove(prefix_ + ".index.csv");
  EXPECT_NE(ErrorOf().find(prefix_ + ".index.csv: cannot open"), std::string::npos);
  std::filesystem::remove(prefix_ + ".pcache");
  EXPECT_NE(ErrorOf().find(prefix_ + ".pcache: cannot open"), std::string::npos);
}

TEST_F(ImageCacheCorrupt, CrlfIndexIsAccepted) {
  std::string crlf;
  for (char c : index_) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  WriteText(prefix_ + ".index.csv", crlf);
  auto r = ReadImageCache(prefix_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->records.size(), 4u);
}

}  // namespace
}  // namespace personcls
