#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "data/image_encoders.h"
#include "personcls/image.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::DecodeAllPrefixes;
using testing::DecodeMutations;
using testing::EncodeJpeg;
using testing::ExpectWellFormed;
using testing::JpegOptions;
using testing::MakePattern;
using testing::StartsWith;

// Largest per-sample difference between two images of the same shape.
int MaxDifference(const Image& a, const Image& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  int worst = 0;
  for (size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) {
    worst = std::max(worst, std::abs(a.pixels[i] - b.pixels[i]));
  }
  return worst;
}

// Offset of the SOF0/SOF2/SOF9/SOF10 marker's payload length in a JPEG we encoded.
size_t FindSof(const std::vector<uint8_t>& jpeg) {
  for (size_t i = 2; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && (jpeg[i + 1] == 0xC0 || jpeg[i + 1] == 0xC2 || jpeg[i + 1] == 0xC9 || jpeg[i + 1] == 0xCA)) return i + 2;
  }
  ADD_FAILURE() << "no SOF marker";
  return 0;
}

// Offset of the first FF `marker` in a JPEG we encoded.
size_t FindMarker(const std::vector<uint8_t>& jpeg, uint8_t marker) {
  for (size_t i = 2; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == marker) return i;
  }
  ADD_FAILURE() << "no marker " << int{marker};
  return 0;
}

// Offset of the last FF `marker` in a JPEG we encoded.
size_t FindLastMarker(const std::vector<uint8_t>& jpeg, uint8_t marker) {
  for (size_t i = jpeg.size() - 2; i >= 2; --i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == marker) return i;
  }
  ADD_FAILURE() << "no marker " << int{marker};
  return 0;
}

TEST(DecodeJpegTest, RgbOddSizeAtQuality100) {
  const Image source = MakePattern(7, 5, 3);
  const std::vector<uint8_t> bytes = EncodeJpeg(source);
  Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "cat.jpg");
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->width, 7);
  EXPECT_EQ(image->height, 5);
  EXPECT_EQ(image->channels, 3);
  EXPECT_LE(MaxDifference(*image, source), 3);
}

TEST(DecodeJpegTest, GrayscaleGivesOneChannel) {
  const Image source = MakePattern(13, 1, 1);
  const std::vector<uint8_t> bytes = EncodeJpeg(source);
  Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "gray.jpg");
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->width, 13);
  EXPECT_EQ(image->height, 1);
  EXPECT_EQ(image->channels, 1);
  EXPECT_LE(MaxDifference(*image, source), 3);
}

TEST(DecodeJpegTest, ChromaSubsampledAndProgressive) {
  const Image source = MakePattern(9, 11, 3);
  for (bool progressive : {false, true}) {
    JpegOptions options;
    options.subsample = true;
    options.progressive = progressive;
    const std::vector<uint8_t> bytes = EncodeJpeg(source, options);
    Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "p.jpg");
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->width, 9);
    EXPECT_EQ(image->height, 11);
    EXPECT_EQ(image->channels, 3);
    // 4:2:0 halves chroma resolution: a smooth pattern stays close, not exact.
    EXPECT_LE(MaxDifference(*image, source), 12) << "progressive=" << progressive;
  }
}

TEST(DecodeJpegTest, AdobeCmykIsConvertedToRgb) {
  // libjpeg writes CMYK with an Adobe marker, so stored bytes are read as inverted ink:
  // R = C * K / 255 of the stored values.
  const uint8_t cmyk[4] = {200, 100, 30, 180};
  std::vector<uint8_t> pixels;
  for (int i = 0; i < 6 * 4; ++i) pixels.insert(pixels.end(), cmyk, cmyk + 4);
  const std::vector<uint8_t> bytes = EncodeJpeg(6, 4, 4, pixels.data());
  Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "cmyk.jpg");
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(image->at(2, 3, c), (cmyk[c] * cmyk[3] + 127) / 255, 3) << "channel " << c;
  }
}

TEST(DecodeJpegTest, TrailingBytesAfterEoiAreIgnored) {
  std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(8, 8, 3));
  bytes.insert(bytes.end(), {0x00, 0x12, 0xFF, 0x34});
  EXPECT_TRUE(DecodeJpeg(bytes.data(), bytes.size(), "t.jpg").ok());
}

TEST(DecodeJpegTest, EveryTruncationIsAnError) {
  for (bool progressive : {false, true}) {
    JpegOptions options;
    options.quality = 90;
    options.progressive = progressive;
    const std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(16, 12, 3), options);
    // Without the final EOI marker the decoder may or may not need more bytes; any
    // shorter prefix misses image data and must fail rather than come back gray-filled.
    std::vector<uint8_t> shorter(bytes.begin(), bytes.end() - 2);
    EXPECT_EQ(DecodeAllPrefixes(DecodeJpeg, shorter, "cat.jpg"), 0) << "progressive=" << progressive;
    std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 10);
    Expected<Image> image = DecodeJpeg(cut.data(), cut.size(), "cat.jpg");
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.status().message(), "cat.jpg: truncated JPEG data");
  }
}

TEST(DecodeJpegTest, ScanCutShortBeforeEoiIsAnError) {
  // A scan that ends early but is followed by a real EOI marker would come out with its
  // missing blocks flat gray ("premature end of data segment"): the same half image as a
  // truncated file, so the same error. Baseline and progressive, every cut inside the last
  // scan's data.
  for (bool progressive : {false, true}) {
    const std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(32, 32, 3), {90, progressive, false, {}});
    const size_t last_scan = FindLastMarker(bytes, 0xDA);
    const size_t data = last_scan + 2 + (bytes[last_scan + 2] << 8 | bytes[last_scan + 3]);
    ASSERT_GT(bytes.size() - 2, data + 1) << "progressive=" << progressive;
    for (size_t end = data + 1; end < bytes.size() - 2; ++end) {
      std::vector<uint8_t> shorter(bytes.begin(), bytes.begin() + end);
      if (shorter.back() == 0xFF) continue;  // Would read as the marker FF FF D9.
      shorter.insert(shorter.end(), {0xFF, 0xD9});
      Expected<Image> image = DecodeJpeg(shorter.data(), shorter.size(), "short.jpg");
      ASSERT_FALSE(image.ok()) << "progressive=" << progressive << " end=" << end;
      EXPECT_EQ(image.status().message(), "short.jpg: truncated JPEG data");
    }
  }
}

TEST(DecodeJpegTest, RestartIntervalCutShortIsAnError) {
  // libjpeg would resync at the next restart marker and leave the damaged interval gray:
  // a partial image again, so an error naming the corruption.
  JpegOptions options;
  options.quality = 90;
  options.restart_interval = 1;
  std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(32, 32, 3), options);
  // Cut the first interval short: keep one byte between the scan header and the first RST0.
  const size_t sos = FindMarker(bytes, 0xDA);
  const size_t data = sos + 2 + (bytes[sos + 2] << 8 | bytes[sos + 3]);
  const size_t rst0 = FindMarker(bytes, 0xD0);
  ASSERT_GT(rst0, data + 2);
  bytes.erase(bytes.begin() + data + 1, bytes.begin() + rst0);
  Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "restart.jpg");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "restart.jpg: invalid JPEG: Corrupt JPEG data: premature end of data segment");
  // Intact, the same restart markers decode.
  const std::vector<uint8_t> intact = EncodeJpeg(MakePattern(32, 32, 3), options);
  EXPECT_TRUE(DecodeJpeg(intact.data(), intact.size(), "restart.jpg").ok());
}

TEST(DecodeJpegTest, CorruptHeaderIsAnError) {
  std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(8, 8, 3));
  const size_t sof = FindSof(bytes);
  bytes[sof + 2] = 3;  // Sample precision 3 bits: invalid.
  Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "bad.jpg");
  ASSERT_FALSE(image.ok());
  EXPECT_TRUE(StartsWith(image.status().message(), "bad.jpg: invalid JPEG: ")) << image.status().message();
}

TEST(DecodeJpegTest, NotAJpeg) {
  const std::vector<uint8_t> bytes = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "x.jpg");
  ASSERT_FALSE(image.ok());
  EXPECT_TRUE(StartsWith(image.status().message(), "x.jpg: invalid JPEG: Not a JPEG file")) << image.status().message();
}

TEST(DecodeJpegTest, EmptyInput) {
  Expected<Image> image = DecodeJpeg(nullptr, 0, "e.jpg");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "e.jpg: empty file");
}

TEST(DecodeJpegTest, AbsurdDimensionsAreRefusedBeforeDecoding) {
  std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(8, 8, 3));
  const size_t sof = FindSof(bytes);
  // SOF payload: length(2) precision(1) height(2) width(2).
  bytes[sof + 3] = 0xFF;
  bytes[sof + 4] = 0xDC;  // 65500
  bytes[sof + 5] = 0xFF;
  bytes[sof + 6] = 0xDC;
  Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "big.jpg");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "big.jpg: image too large: 65500x65500 (limit 67108864 pixels)");
}

TEST(DecodeJpegTest, DimensionsTheDataCannotHoldAreRefusedBeforeDecoding) {
  // 4000x4000 is under the pixel limit, but its 62,500 blocks per component need at least
  // 62,500 bits of Huffman data: a few hundred bytes cannot hold them (and the 1/8 decode
  // must not allocate its 500x500 output either).
  for (int variant = 0; variant < 3; ++variant) {
    JpegOptions options;
    options.quality = 90;
    options.progressive = variant == 1;
    options.arithmetic = variant == 2;  // can code a block in less than a bit: the same limit
    std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(8, 8, 3), options);
    const size_t sof = FindSof(bytes);
    bytes[sof + 3] = 4000 >> 8;
    bytes[sof + 4] = 4000 & 0xFF;
    bytes[sof + 5] = 4000 >> 8;
    bytes[sof + 6] = 4000 & 0xFF;
    const std::string want = "big.jpg: truncated JPEG data: 4000x4000 pixels need more than the file's " +
                             std::to_string(bytes.size()) + " bytes";
    Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "big.jpg");
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.status().message(), want);
    image = DecodeJpegAtLeast(bytes.data(), bytes.size(), "big.jpg", 96, 96);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.status().message(), want);
  }
  // The bound is far from real files: a flat 1024x1024 gray image, the most compressible
  // there is, still spends 6 bits per block (a DC difference of 0 and an end of block),
  // 6x the bound's one.
  Image flat;
  flat.width = flat.height = 1024;
  flat.channels = 1;
  flat.pixels.assign(size_t{1024} * 1024, 77);
  const std::vector<uint8_t> bytes = EncodeJpeg(flat, {75, false, false, {}});
  EXPECT_GT(bytes.size(), size_t{5} * 1024 * 1024 / 64 / 8);
  EXPECT_TRUE(DecodeJpeg(bytes.data(), bytes.size(), "flat.jpg").ok());
}

TEST(DecodeJpegTest, TooManyProgressiveScans) {
  // A valid file with 2 + 2 * 3 * 63 = 380 scans: DC and then every AC coefficient of
  // every component on its own, each in a first pass and a refinement pass.
  JpegOptions options;
  options.scans.push_back({3, {0, 1, 2, 0}, 0, 0, 0, 1});
  options.scans.push_back({3, {0, 1, 2, 0}, 0, 0, 1, 0});
  for (int ah_al : {0, 1}) {
    for (int c = 0; c < 3; ++c) {
      for (int k = 1; k < 64; ++k) options.scans.push_back({1, {c, 0, 0, 0}, k, k, ah_al, 1 - ah_al});
    }
  }
  const std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(8, 8, 3), options);
  Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), "scans.jpg");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "scans.jpg: invalid JPEG: more than 256 scans");
  // The first 256 scans alone (then EOI) are a fine, if blurry, image.
  options.scans.resize(256);
  const std::vector<uint8_t> fewer = EncodeJpeg(MakePattern(8, 8, 3), options);
  EXPECT_TRUE(DecodeJpeg(fewer.data(), fewer.size(), "scans.jpg").ok());
}

TEST(DecodeJpegTest, RandomMutationsNeverCrash) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  DecodeMutations(DecodeJpeg, EncodeJpeg(MakePattern(16, 16, 3), {90, false, true, {}}), seed, 300);
  DecodeMutations(DecodeJpeg, EncodeJpeg(MakePattern(16, 16, 3), {90, true, true, {}}), seed + 1, 300);
}

TEST(DecodeJpegTest, SharedCocoImages) {
  PCLS_REQUIRE_SHARED("images/COCO_train2014_000000000250.jpg");
  for (const char* id : {"250", "384", "389", "1111", "1943", "2992"}) {
    std::string file = std::string("images/COCO_train2014_") + std::string(12 - std::strlen(id), '0') + id + ".jpg";
    const std::vector<uint8_t> bytes = testing::ReadFileBytes(testing::SharedPath(file));
    Expected<Image> image = DecodeJpeg(bytes.data(), bytes.size(), file);
    ASSERT_TRUE(image.ok()) << image.status().message();
    ExpectWellFormed(*image);
    EXPECT_EQ(image->width, 96) << file;
    EXPECT_EQ(image->height, 96) << file;
    EXPECT_EQ(image->channels, 3) << file;
  }
}

}  // namespace
}  // namespace personcls
