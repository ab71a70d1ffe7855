// Format sniffing, dispatch, file loading and raw .bin data.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/image_encoders.h"
#include "personcls/image.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::MakeNoise;
using testing::StartsWith;

constexpr size_t kRawBytes = 96 * 96 * 3;

ImageFormat Sniff(const std::vector<uint8_t>& bytes) { return SniffImageFormat(bytes.data(), bytes.size()); }
std::vector<uint8_t> Bytes(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

TEST(SniffImageFormatTest, MagicNumbers) {
  const Image image = MakeNoise(3, 2, 3, 1);
  EXPECT_EQ(Sniff(testing::EncodeJpeg(image)), ImageFormat::kJpeg);
  EXPECT_EQ(Sniff(testing::EncodePng(image, PNG_COLOR_TYPE_RGB)), ImageFormat::kPng);
  EXPECT_EQ(Sniff(testing::EncodeBmp24(image)), ImageFormat::kBmp);
  EXPECT_EQ(Sniff(testing::EncodePnm(image)), ImageFormat::kPnm);
  EXPECT_EQ(Sniff(Bytes("P5\n1 1 255\n\x01")), ImageFormat::kPnm);
  EXPECT_EQ(Sniff(Bytes("P3 is a text file")), ImageFormat::kPnm);
  EXPECT_EQ(Sniff(Bytes("P3is a text file")), ImageFormat::kUnknown);
  EXPECT_EQ(Sniff(Bytes("GIF89a")), ImageFormat::kUnknown);
  EXPECT_EQ(Sniff({0xFF, 0xD8}), ImageFormat::kUnknown);
  EXPECT_EQ(Sniff({}), ImageFormat::kUnknown);
  EXPECT_EQ(SniffImageFormat(nullptr, 0), ImageFormat::kUnknown);
}

TEST(DecodeImageTest, DispatchesOnContentNotExtension) {
  const Image source = MakeNoise(5, 3, 3, 2);
  for (const std::vector<uint8_t>& bytes :
       {testing::EncodePng(source, PNG_COLOR_TYPE_RGB), testing::EncodeBmp24(source), testing::EncodePnm(source)}) {
    Expected<Image> image = DecodeImage(bytes.data(), bytes.size(), "misnamed.jpg");
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->pixels, source.pixels);
  }
  const std::vector<uint8_t> jpeg = testing::EncodeJpeg(source);
  Expected<Image> image = DecodeImage(jpeg.data(), jpeg.size(), "a.png");
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->width, 5);
}

TEST(DecodeImageTest, BinExtensionIsRawEvenWithAMagicNumber) {
  std::vector<uint8_t> bytes(kRawBytes);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  bytes[0] = 0xFF;
  bytes[1] = 0xD8;
  bytes[2] = 0xFF;  // Looks like a JPEG.
  Expected<Image> image = DecodeImage(bytes.data(), bytes.size(), "dir/x.BIN");
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->width, 96);
  EXPECT_EQ(image->height, 96);
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, bytes);
  EXPECT_EQ(image->at(0, 1, 0), bytes[3]);
}

TEST(DecodeImageTest, Errors) {
  Expected<Image> image = DecodeImage(nullptr, 0, "e.png");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "e.png: empty file");
  const std::vector<uint8_t> gif = Bytes("GIF89a....");
  image = DecodeImage(gif.data(), gif.size(), "a.gif");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "a.gif: unknown image format (not JPEG, PNG, BMP, PNM or a .bin file)");
  const std::vector<uint8_t> raw(kRawBytes - 1);
  image = DecodeImage(raw.data(), raw.size(), "short.bin");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "short.bin: raw .bin must be exactly 27648 bytes (96x96x3 RGB), got 27647");
}

TEST(DecodeRawBinTest, SizeMustBeExact) {
  const std::vector<uint8_t> big(kRawBytes + 1);
  EXPECT_FALSE(DecodeRawBin(big.data(), big.size(), "b.bin").ok());
  EXPECT_FALSE(DecodeRawBin(nullptr, 0, "b.bin").ok());
  const std::vector<uint8_t> exact(kRawBytes, 9);
  EXPECT_TRUE(DecodeRawBin(exact.data(), exact.size(), "b.bin").ok());
}

TEST(LoadImageTest, ReadsEveryFormatFromDisk) {
  const std::string dir = testing::TempDir();
  const Image source = MakeNoise(7, 5, 3, 3);
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> files = {
      {"a.png", testing::EncodePng(source, PNG_COLOR_TYPE_RGB)},
      {"a.bmp", testing::EncodeBmp24(source)},
      {"a.ppm", testing::EncodePnm(source)},
  };
  for (const auto& [file, bytes] : files) {
    testing::WriteFileBytes(dir + "/" + file, bytes);
    Expected<Image> image = LoadImage(dir + "/" + file);
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->pixels, source.pixels) << file;
  }
  testing::WriteFileBytes(dir + "/a.jpg", testing::EncodeJpeg(source));
  EXPECT_TRUE(LoadImage(dir + "/a.jpg").ok());
}

TEST(LoadImageTest, FileErrorsNameThePath) {
  const std::string dir = testing::TempDir();
  Expected<Image> image = LoadImage(dir + "/missing.jpg");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), dir + "/missing.jpg: cannot open: No such file or directory");

  image = LoadImage(dir);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), dir + ": cannot open: Is a directory");

  testing::WriteFileBytes(dir + "/empty.png", {});
  image = LoadImage(dir + "/empty.png");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), dir + "/empty.png: empty file");

  std::vector<uint8_t> truncated = testing::EncodePng(MakeNoise(7, 5, 3, 4), PNG_COLOR_TYPE_RGB);
  truncated.resize(40);
  testing::WriteFileBytes(dir + "/cut.png", truncated);
  image = LoadImage(dir + "/cut.png");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), dir + "/cut.png: truncated PNG data");
}

TEST(HasImageExtensionTest, KnownExtensionsAnyCase) {
  for (const char* path : {"a.jpg", "a.JPG", "b.jpeg", "c.png", "d.Bmp", "e.ppm", "f.pgm", "g.pnm", "h.bin",
                           "dir.x/y.JpEg", "/abs/path/000000000885.bin"}) {
    EXPECT_TRUE(HasImageExtension(path)) << path;
  }
  for (const char* path : {"a.gif", "a.jpg.txt", "jpg", ".", "", "dir.jpg/file", "a.tflite", "a.", "labels.csv"}) {
    EXPECT_FALSE(HasImageExtension(path)) << path;
  }
}

TEST(LoadImageTest, SharedJpegs) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  const std::string dir = testing::SharedPath("images");
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!HasImageExtension(entry.path().string())) continue;
    Expected<Image> image = LoadImage(entry.path().string());
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->width, 96);
    EXPECT_EQ(image->height, 96);
    EXPECT_EQ(image->channels, 3);
    ++count;
  }
  EXPECT_EQ(count, 6);
}

TEST(LoadImageTest, SharedRawBins) {
  PCLS_REQUIRE_SHARED("data/vww01-dev/000000000885.bin");
  for (const char* file : {"000000000885.bin", "000000001000.bin", "000000002157.bin"}) {
    const std::string path = testing::SharedPath(std::string("data/vww01-dev/") + file);
    Expected<Image> image = LoadImage(path);
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->width, 96);
    EXPECT_EQ(image->height, 96);
    EXPECT_EQ(image->channels, 3);
    EXPECT_EQ(image->pixels, testing::ReadFileBytes(path)) << file;
  }
}

}  // namespace
}  // namespace personcls
