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
using testing::EncodePnm;
using testing::MakeNoise;
using testing::StartsWith;

std::vector<uint8_t> Bytes(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

Expected<Image> Decode(const std::vector<uint8_t>& bytes, const std::string& name = "x.pnm") {
  return DecodePnm(bytes.data(), bytes.size(), name);
}

std::string ErrorOf(const std::vector<uint8_t>& bytes) {
  Expected<Image> image = Decode(bytes);
  EXPECT_FALSE(image.ok());
  return image.ok() ? "" : image.status().message();
}

TEST(DecodePnmTest, BinaryPpmAndPgmAreExact) {
  for (int channels : {1, 3}) {
    for (auto [w, h] : {std::pair{7, 5}, std::pair{13, 1}}) {
      const Image source = MakeNoise(w, h, channels, w + h + channels);
      Expected<Image> image = Decode(EncodePnm(source));
      ASSERT_TRUE(image.ok()) << image.status().message();
      EXPECT_EQ(image->width, w);
      EXPECT_EQ(image->height, h);
      EXPECT_EQ(image->channels, channels);
      EXPECT_EQ(image->pixels, source.pixels);
    }
  }
}

TEST(DecodePnmTest, CommentsInHeader) {
  std::vector<uint8_t> bytes = Bytes("P5 # a comment\n# another\n2# after width\n 1\r\n#x\n255\n");
  bytes.push_back(7);
  bytes.push_back('#');  // Pixel data that looks like a comment is still data.
  Expected<Image> image = Decode(bytes);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{7, '#'}));
}

TEST(DecodePnmTest, SmallMaxvalIsScaled) {
  std::vector<uint8_t> bytes = Bytes("P5\n5 1\n15\n");
  bytes.insert(bytes.end(), {0, 1, 7, 15, 20});  // 20 > maxval: clamped.
  Expected<Image> image = Decode(bytes);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{0, 17, 119, 255, 255}));
}

TEST(DecodePnmTest, SixteenBitSamplesAreBigEndianAndScaled) {
  std::vector<uint8_t> bytes = Bytes("P6 1 1 65535\n");
  bytes.insert(bytes.end(), {0xFF, 0xFF, 0x80, 0x00, 0x00, 0x81});
  Expected<Image> image = Decode(bytes);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{255, (0x8000 * 255 + 32767) / 65535, (0x81 * 255 + 32767) / 65535}));
}

TEST(DecodePnmTest, AsciiForms) {
  Expected<Image> image = Decode(Bytes("P3\n# rgb\n2 1\n255\n1 2 3\n  255 0 128"));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{1, 2, 3, 255, 0, 128}));
  image = Decode(Bytes("P2 3 1 100 0 50 100\n"));
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{0, 128, 255}));
  EXPECT_EQ(ErrorOf(Bytes("P2 3 1 100 0 50")), "x.pnm: truncated PNM pixel data");
  EXPECT_TRUE(StartsWith(ErrorOf(Bytes("P2 3 1 100 0 x 100\n")), "x.pnm: invalid PNM sample"));
}

TEST(DecodePnmTest, HeaderErrors) {
  EXPECT_EQ(ErrorOf(Bytes("P4 1 1\n\x80")), "x.pnm: unsupported PNM type P4 (only P2, P3, P5, P6)");
  EXPECT_EQ(ErrorOf(Bytes("P7\nWIDTH 1\n")), "x.pnm: unsupported PNM type P7 (only P2, P3, P5, P6)");
  EXPECT_EQ(ErrorOf(Bytes("Q6 1 1 255\n")), "x.pnm: not a PNM file");
  EXPECT_EQ(ErrorOf(Bytes("P6x1 1 255\n")), "x.pnm: not a PNM file");
  EXPECT_EQ(ErrorOf(Bytes("P6 1 1 0\n")), "x.pnm: invalid PNM maxval 0");
  EXPECT_EQ(ErrorOf(Bytes("P6 1 1 65536\n")), "x.pnm: invalid PNM maxval 65536");
  EXPECT_EQ(ErrorOf(Bytes("P6 1 -1 255\n")), "x.pnm: invalid PNM header: expected height");
  EXPECT_EQ(ErrorOf(Bytes("P6 99999999999 1 255\n")), "x.pnm: PNM width too large");
  EXPECT_EQ(ErrorOf(Bytes("P6 1 1")), "x.pnm: truncated PNM header (no maxval)");
  EXPECT_EQ(ErrorOf(Bytes("P6 1 1 255")), "x.pnm: truncated PNM header");
  EXPECT_EQ(ErrorOf(Bytes("P6 0 1 255\n")), "x.pnm: invalid image size 0x1");
  EXPECT_EQ(ErrorOf({}), "x.pnm: empty file");
}

TEST(DecodePnmTest, AbsurdDimensionsAreRefusedBeforeAllocating) {
  EXPECT_EQ(ErrorOf(Bytes("P6 100000 100000 255\n")), "x.pnm: image too large: 100000x100000 (limit 67108864 pixels)");
  EXPECT_EQ(ErrorOf(Bytes("P6 8000 8000 255\n\x01\x02\x03")),
            "x.pnm: truncated PNM pixel data (need 192000000 bytes, have 3)");
  EXPECT_EQ(ErrorOf(Bytes("P3 8000 8000 255\n1 2 3")), "x.pnm: truncated PNM pixel data");
}

TEST(DecodePnmTest, EveryTruncationIsAnErrorOrAnImage) {
  const std::vector<uint8_t> bytes = EncodePnm(MakeNoise(7, 5, 3, 1), "# comment\n");
  EXPECT_EQ(DecodeAllPrefixes(DecodePnm, bytes, "cut.ppm"), 0);
  const std::vector<uint8_t> ascii = Bytes("P3\n# c\n3 2\n255\n1 2 3 4 5 6\n7 8 9 10 11 12\n13 14 15 16 17 18\n");
  // Only prefixes that end inside or after the last sample "18" decode.
  EXPECT_EQ(DecodeAllPrefixes(DecodePnm, ascii, "cut.ppm"), 2);
}

TEST(DecodePnmTest, RandomMutationsNeverCrash) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  DecodeMutations(DecodePnm, EncodePnm(MakeNoise(5, 4, 3, 2), "# c\n"), seed, 2000);
  DecodeMutations(DecodePnm, Bytes("P2\n3 2\n1000\n1 2 3\n4 5 6\n"), seed + 1, 2000);
}

}  // namespace
}  // namespace personcls
