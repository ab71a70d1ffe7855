#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/image_encoders.h"
#include "personcls/image.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::BmpSpec;
using testing::BuildBmp;
using testing::DecodeAllPrefixes;
using testing::DecodeMutations;
using testing::EncodeBmp24;
using testing::MakeNoise;
using testing::StartsWith;

Expected<Image> Decode(const std::vector<uint8_t>& bytes, const std::string& name = "x.bmp") {
  return DecodeBmp(bytes.data(), bytes.size(), name);
}

std::string ErrorOf(const std::vector<uint8_t>& bytes, const std::string& name = "x.bmp") {
  Expected<Image> image = Decode(bytes, name);
  EXPECT_FALSE(image.ok());
  return image.ok() ? "" : image.status().message();
}

// 8-bit palette BMP (4-byte entries) with the given B,G,R palette and file-order rows.
BmpSpec PaletteSpec(int width, int height, int bpp, const std::vector<std::vector<uint8_t>>& bgr,
                    const std::vector<std::vector<uint8_t>>& rows) {
  BmpSpec spec;
  spec.width = width;
  spec.height = height;
  spec.bpp = bpp;
  for (const auto& entry : bgr) spec.palette.insert(spec.palette.end(), {entry[0], entry[1], entry[2], 0});
  spec.colors_used = static_cast<uint32_t>(bgr.size());
  spec.rows = rows;
  return spec;
}

TEST(DecodeBmpTest, Rgb24BottomUpAndTopDownAreExact) {
  for (bool top_down : {false, true}) {
    for (auto [w, h] : {std::pair{7, 5}, std::pair{13, 1}, std::pair{1, 3}, std::pair{4, 4}}) {
      const Image source = MakeNoise(w, h, 3, w * 100 + h);
      Expected<Image> image = Decode(EncodeBmp24(source, top_down));
      ASSERT_TRUE(image.ok()) << image.status().message();
      EXPECT_EQ(image->width, w);
      EXPECT_EQ(image->height, h);
      EXPECT_EQ(image->channels, 3);
      EXPECT_EQ(image->pixels, source.pixels) << w << "x" << h << " top_down=" << top_down;
    }
  }
}

TEST(DecodeBmpTest, LastRowPaddingMayBeMissing) {
  std::vector<uint8_t> bytes = EncodeBmp24(MakeNoise(7, 5, 3, 1));
  bytes.resize(bytes.size() - 3);  // 7 * 3 = 21 bytes per row, padded to 24.
  EXPECT_TRUE(Decode(bytes).ok());
  bytes.pop_back();
  EXPECT_TRUE(StartsWith(ErrorOf(bytes), "x.bmp: truncated BMP pixel data (need "));
}

TEST(DecodeBmpTest, Palette8BitColourGivesRgb) {
  // 3x2, bottom-up: the first file row is the bottom image row.
  const BmpSpec spec = PaletteSpec(3, 2, 8, {{0, 0, 255}, {0, 255, 0}, {255, 0, 0}}, {{0, 1, 2}, {2, 2, 1}});
  Expected<Image> image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{0, 0, 255, 0, 0, 255, 0, 255, 0,  // top: 2 2 1
                                                 255, 0, 0, 0, 255, 0, 0, 0, 255}));
}

TEST(DecodeBmpTest, GrayPaletteGivesOneChannel) {
  std::vector<std::vector<uint8_t>> palette;
  for (int i = 0; i < 256; ++i) palette.push_back({uint8_t(i), uint8_t(i), uint8_t(i)});
  BmpSpec spec = PaletteSpec(5, -2, 8, palette, {{0, 50, 100, 150, 255}, {1, 2, 3, 4, 5}});
  Expected<Image> image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{0, 50, 100, 150, 255, 1, 2, 3, 4, 5}));
}

TEST(DecodeBmpTest, OutOfRangePaletteIndexIsBlack) {
  const BmpSpec spec = PaletteSpec(2, 1, 8, {{9, 8, 7}}, {{0, 200}});
  Expected<Image> image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{7, 8, 9, 0, 0, 0}));
}

TEST(DecodeBmpTest, FourAndOneBitPalettes) {
  // 4 bits: 5 pixels 1 2 3 0 1 -> bytes 0x12 0x30 0x10.
  BmpSpec spec = PaletteSpec(5, 1, 4, {{0, 0, 0}, {10, 20, 30}, {40, 50, 60}, {70, 80, 90}}, {{0x12, 0x30, 0x10}});
  Expected<Image> image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{30, 20, 10, 60, 50, 40, 90, 80, 70, 0, 0, 0, 30, 20, 10}));

  // 1 bit, 13 pixels wide: 1011000011111 -> 0xB0 0xF8. Black/white palette: gray.
  spec = PaletteSpec(13, 1, 1, {{0, 0, 0}, {255, 255, 255}}, {{0xB0, 0xF8}});
  image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{255, 0, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255, 255}));
}

TEST(DecodeBmpTest, Rgb32AndBitfields) {
  // BI_RGB 32-bit: B G R X, alpha byte ignored.
  BmpSpec spec;
  spec.width = 2;
  spec.height = 1;
  spec.bpp = 32;
  spec.rows = {{1, 2, 3, 0, 4, 5, 6, 255}};
  Expected<Image> image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{3, 2, 1, 6, 5, 4}));

  // BITFIELDS after a 40-byte header, R G B X byte order (masks 0xFF, 0xFF00, 0xFF0000).
  spec.compression = 3;
  spec.masks = {0x000000FF, 0x0000FF00, 0x00FF0000};
  image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));

  // The same masks inside a V5 (124-byte) header.
  spec.header_size = 124;
  image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
}

TEST(DecodeBmpTest, SixteenBitScalesToEightBits) {
  // BI_RGB 16-bit is 5-5-5: 0x7FFF white, 0x7C00 red, 0x0210 = (0, 16, 16).
  BmpSpec spec;
  spec.width = 3;
  spec.height = 1;
  spec.bpp = 16;
  spec.rows = {{0xFF, 0x7F, 0x00, 0x7C, 0x10, 0x02}};
  Expected<Image> image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  const uint8_t v16 = (16 * 255 + 15) / 31;
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{255, 255, 255, 255, 0, 0, 0, v16, v16}));

  // 5-6-5 BITFIELDS in a V4 header: 0x07E0 is full green.
  spec.compression = 3;
  spec.header_size = 108;
  spec.masks = {0xF800, 0x07E0, 0x001F};
  spec.rows = {{0xE0, 0x07, 0x1F, 0x00, 0x00, 0xF8}};
  image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{0, 255, 0, 0, 0, 255, 255, 0, 0}));
}

TEST(DecodeBmpTest, Os2CoreHeader) {
  BmpSpec spec;
  spec.header_size = 12;
  spec.width = 2;
  spec.height = 2;
  spec.rows = {{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}};
  Expected<Image> image = Decode(BuildBmp(spec));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{9, 8, 7, 12, 11, 10, 3, 2, 1, 6, 5, 4}));
}

TEST(DecodeBmpTest, CompressionIsRejectedByName) {
  BmpSpec spec = PaletteSpec(2, 1, 8, {{0, 0, 0}}, {{0, 0}});
  spec.compression = 1;
  EXPECT_EQ(ErrorOf(BuildBmp(spec)), "x.bmp: unsupported BMP compression 1 (RLE8)");
  spec.compression = 4;
  EXPECT_EQ(ErrorOf(BuildBmp(spec)), "x.bmp: unsupported BMP compression 4 (JPEG)");
  spec.compression = 3;  // BITFIELDS needs 16 or 32 bits.
  EXPECT_EQ(ErrorOf(BuildBmp(spec)), "x.bmp: unsupported BMP bit depth 8 with BITFIELDS");
}

TEST(DecodeBmpTest, BadHeaders) {
  const std::vector<uint8_t> good = EncodeBmp24(MakeNoise(3, 3, 3, 2));
  std::vector<uint8_t> bytes = good;
  bytes[14] = 41;  // DIB header size.
  EXPECT_EQ(ErrorOf(bytes), "x.bmp: unsupported BMP header size 41");
  bytes = good;
  bytes[28] = 7;  // Bits per pixel.
  EXPECT_EQ(ErrorOf(bytes), "x.bmp: unsupported BMP bit depth 7");
  bytes = good;
  bytes[10] = 0xFF;  // Pixel data offset past the end.
  EXPECT_TRUE(StartsWith(ErrorOf(bytes), "x.bmp: invalid BMP pixel data offset")) << ErrorOf(bytes);
  bytes = good;
  bytes[0] = 'X';
  EXPECT_EQ(ErrorOf(bytes), "x.bmp: not a BMP file (no 'BM' signature)");
  EXPECT_EQ(ErrorOf({}), "x.bmp: empty file");
  // Zero width, and a height of INT32_MIN (whose negation overflows int32).
  bytes = good;
  bytes[18] = bytes[19] = bytes[20] = bytes[21] = 0;
  EXPECT_EQ(ErrorOf(bytes), "x.bmp: invalid image size 0x3");
  bytes = good;
  bytes[22] = bytes[23] = bytes[24] = 0;
  bytes[25] = 0x80;
  EXPECT_EQ(ErrorOf(bytes), "x.bmp: image too large: 3x2147483648 (limit 67108864 pixels)");
}

TEST(DecodeBmpTest, AbsurdDimensionsAreRefusedBeforeAllocating) {
  BmpSpec spec;
  spec.width = 100000;
  spec.height = 100000;
  spec.rows = {{1, 2, 3}};
  EXPECT_EQ(ErrorOf(BuildBmp(spec), "huge.bmp"), "huge.bmp: image too large: 100000x100000 (limit 67108864 pixels)");
  // Within the pixel limit but far more pixels than bytes.
  spec.width = 8000;
  spec.height = -8000;
  EXPECT_TRUE(StartsWith(ErrorOf(BuildBmp(spec), "huge.bmp"), "huge.bmp: truncated BMP pixel data (need 192000000 bytes"));
}

TEST(DecodeBmpTest, EveryTruncationIsAnErrorOrAnImage) {
  const std::vector<uint8_t> bytes = EncodeBmp24(MakeNoise(7, 5, 3, 3));
  // Only the full file and the one missing the last row's 3 padding bytes decode.
  EXPECT_EQ(DecodeAllPrefixes(DecodeBmp, bytes, "cut.bmp"), 3);
  std::vector<std::vector<uint8_t>> palette(16, std::vector<uint8_t>{1, 2, 3});
  const std::vector<uint8_t> paletted = BuildBmp(PaletteSpec(5, 3, 4, palette, {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
  EXPECT_LE(DecodeAllPrefixes(DecodeBmp, paletted, "cut.bmp"), 3);
}

TEST(DecodeBmpTest, RandomMutationsNeverCrash) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  DecodeMutations(DecodeBmp, EncodeBmp24(MakeNoise(9, 7, 3, 4)), seed, 2000);
  std::vector<std::vector<uint8_t>> palette(4, std::vector<uint8_t>{1, 2, 3});
  DecodeMutations(DecodeBmp, BuildBmp(PaletteSpec(5, 3, 2 * 2, palette, {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}})), seed + 1,
                  2000);
}

}  // namespace
}  // namespace personcls
