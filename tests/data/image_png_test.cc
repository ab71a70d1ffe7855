#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/image_encoders.h"
#include "personcls/image.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::DecodeAllPrefixes;
using testing::DecodeMutations;
using testing::EncodePng;
using testing::MakeNoise;
using testing::PngOptions;
using testing::StartsWith;

Expected<Image> Decode(const std::vector<uint8_t>& bytes, const std::string& name = "x.png") {
  return DecodePng(bytes.data(), bytes.size(), name);
}

TEST(DecodePngTest, RgbIsExact) {
  for (bool interlace : {false, true}) {
    const Image source = MakeNoise(7, 5, 3, 1);
    Expected<Image> image = Decode(EncodePng(source, PNG_COLOR_TYPE_RGB, interlace));
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->width, 7);
    EXPECT_EQ(image->height, 5);
    EXPECT_EQ(image->channels, 3);
    EXPECT_EQ(image->pixels, source.pixels) << "interlace=" << interlace;
  }
}

TEST(DecodePngTest, GrayIsExactWithOneChannel) {
  for (bool interlace : {false, true}) {
    const Image source = MakeNoise(13, 1, 1, 2);
    Expected<Image> image = Decode(EncodePng(source, PNG_COLOR_TYPE_GRAY, interlace));
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(image->width, 13);
    EXPECT_EQ(image->height, 1);
    EXPECT_EQ(image->channels, 1);
    EXPECT_EQ(image->pixels, source.pixels);
  }
}

TEST(DecodePngTest, InterlacedOddSize) {
  const Image source = MakeNoise(13, 7, 3, 3);
  Expected<Image> image = Decode(EncodePng(source, PNG_COLOR_TYPE_RGB, /*interlace=*/true));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, source.pixels);
}

TEST(DecodePngTest, LowBitDepthGrayIsScaledTo8Bits) {
  // 2-bit gray 0,1,2,3 -> 0,85,170,255; 5 pixels packed MSB first into 2 bytes.
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_GRAY;
  options.bit_depth = 2;
  Expected<Image> image = Decode(EncodePng(5, 1, {{0b00011011, 0b01000000}}, options));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{0, 85, 170, 255, 85}));

  options.bit_depth = 1;
  image = Decode(EncodePng(9, 1, {{0b10110000, 0b10000000}}, options));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{255, 0, 255, 255, 0, 0, 0, 0, 255}));
}

TEST(DecodePngTest, PaletteBecomesRgb) {
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_PALETTE;
  options.bit_depth = 4;
  options.palette = {{10, 20, 30}, {200, 100, 0}, {1, 2, 3}};
  // 3x2 pixels, indices 0 1 2 / 2 1 0.
  Expected<Image> image = Decode(EncodePng(3, 2, {{0x01, 0x20}, {0x21, 0x00}}, options));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{10, 20, 30, 200, 100, 0, 1, 2, 3,  //
                                                 1, 2, 3, 200, 100, 0, 10, 20, 30}));
}

TEST(DecodePngTest, PaletteTransparencyIsCompositedOnBlack) {
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_PALETTE;
  options.palette = {{100, 200, 250}, {40, 50, 60}};
  options.palette_alpha = {128, 0};  // Entry 0 half transparent, entry 1 transparent.
  Expected<Image> image = Decode(EncodePng(2, 1, {{0, 1}}, options));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{(100 * 128 + 127) / 255, (200 * 128 + 127) / 255,
                                                 (250 * 128 + 127) / 255, 0, 0, 0}));
}

TEST(DecodePngTest, AlphaChannelsAreCompositedOnBlack) {
  const Image rgba = MakeNoise(7, 3, 4, 4);
  Expected<Image> image = Decode(EncodePng(rgba, PNG_COLOR_TYPE_RGB_ALPHA));
  ASSERT_TRUE(image.ok()) << image.status().message();
  ASSERT_EQ(image->channels, 3);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 7; ++x) {
      for (int c = 0; c < 3; ++c) {
        EXPECT_EQ(image->at(y, x, c), (rgba.at(y, x, c) * rgba.at(y, x, 3) + 127) / 255);
      }
    }
  }

  const Image gray_alpha = MakeNoise(5, 2, 2, 5);
  image = Decode(EncodePng(gray_alpha, PNG_COLOR_TYPE_GRAY_ALPHA));
  ASSERT_TRUE(image.ok()) << image.status().message();
  ASSERT_EQ(image->channels, 1);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 5; ++x) EXPECT_EQ(image->at(y, x, 0), (gray_alpha.at(y, x, 0) * gray_alpha.at(y, x, 1) + 127) / 255);
  }
}

TEST(DecodePngTest, GrayTransparentColourKeyBecomesBlack) {
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_GRAY;
  options.has_trans_color = true;
  options.trans_color.gray = 77;
  Expected<Image> image = Decode(EncodePng(4, 1, {{10, 77, 200, 77}}, options));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{10, 0, 200, 0}));
}

TEST(DecodePngTest, SixteenBitIsScaledWithRounding) {
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_RGB;
  options.bit_depth = 16;
  const std::vector<uint16_t> values = {0, 65535, 0x1280, 128, 129, 32767, 32768, 65407, 65408};
  std::vector<uint8_t> row;
  for (uint16_t v : values) {
    row.push_back(static_cast<uint8_t>(v >> 8));
    row.push_back(static_cast<uint8_t>(v));
  }
  Expected<Image> image = Decode(EncodePng(3, 1, {row}, options));
  ASSERT_TRUE(image.ok()) << image.status().message();
  ASSERT_EQ(image->pixels.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(image->pixels[i], (values[i] * 255u + 32767u) / 65535u) << "value " << values[i];
  }
}

TEST(DecodePngTest, EveryTruncationIsAnErrorOrAnImage) {
  const std::vector<uint8_t> bytes = EncodePng(MakeNoise(7, 5, 3, 6), PNG_COLOR_TYPE_RGB);
  // The pixels are complete once the IDAT chunk is: only prefixes ending inside IEND or
  // its CRC may decode (we do not read past the image data).
  EXPECT_LE(DecodeAllPrefixes(DecodePng, bytes, "cut.png"), 12);
  std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + bytes.size() / 2);
  Expected<Image> image = Decode(cut, "cut.png");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "cut.png: truncated PNG data");
}

TEST(DecodePngTest, CrcErrorInHeader) {
  std::vector<uint8_t> bytes = EncodePng(MakeNoise(4, 4, 3, 7), PNG_COLOR_TYPE_RGB);
  bytes[8 + 8] ^= 1;  // A bit of IHDR's width, CRC not updated.
  Expected<Image> image = Decode(bytes, "crc.png");
  ASSERT_FALSE(image.ok());
  EXPECT_TRUE(StartsWith(image.status().message(), "crc.png: invalid PNG: ")) << image.status().message();
}

TEST(DecodePngTest, BadSignature) {
  std::vector<uint8_t> bytes = EncodePng(MakeNoise(4, 4, 3, 8), PNG_COLOR_TYPE_RGB);
  bytes[1] = 'Q';
  Expected<Image> image = Decode(bytes, "sig.png");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "sig.png: not a PNG file (bad signature)");
  image = Decode({}, "sig.png");
  EXPECT_EQ(image.status().message(), "sig.png: empty file");
}

TEST(DecodePngTest, AbsurdDimensionsAreRefused) {
  std::vector<uint8_t> bytes = EncodePng(MakeNoise(4, 4, 3, 9), PNG_COLOR_TYPE_RGB);
  testing::PatchPngSize(&bytes, 100000, 100000);
  Expected<Image> image = Decode(bytes, "big.png");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "big.png: image too large: 100000x100000 (limit 67108864 pixels)");

  // libpng sizes its row buffers by the width when transforms are set up: the check must
  // come before that, or this would allocate gigabytes inside libpng.
  testing::PatchPngSize(&bytes, 0x7fffffff, 1);
  image = Decode(bytes, "big.png");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "big.png: image too large: 2147483647x1 (limit 67108864 pixels)");

  // Within the pixel limit, but a few hundred bytes cannot hold 60 Mpixel even at
  // deflate's best ratio: refused before allocating.
  testing::PatchPngSize(&bytes, 20000, 3000);
  image = Decode(bytes, "big.png");
  ASSERT_FALSE(image.ok());
  EXPECT_TRUE(StartsWith(image.status().message(), "big.png: truncated PNG data (20000x3000 image in "))
      << image.status().message();
}

TEST(DecodePngTest, MissingImageData) {
  // A larger size than the IDAT holds: libpng runs out of image data.
  std::vector<uint8_t> bytes = EncodePng(MakeNoise(4, 4, 3, 10), PNG_COLOR_TYPE_RGB);
  testing::PatchPngSize(&bytes, 4, 40);
  Expected<Image> image = Decode(bytes, "short.png");
  ASSERT_FALSE(image.ok());
  EXPECT_TRUE(StartsWith(image.status().message(), "short.png: ")) << image.status().message();
}

TEST(DecodePngTest, RandomMutationsNeverCrash) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  DecodeMutations(DecodePng, EncodePng(MakeNoise(9, 7, 3, 11), PNG_COLOR_TYPE_RGB, true), seed, 500);
}

}  // namespace
}  // namespace personcls
