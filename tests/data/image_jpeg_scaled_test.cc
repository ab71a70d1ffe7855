// DecodeJpegAtLeast: libjpeg-turbo DCT scaling picked from a minimum output size.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
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
using testing::JpegOptions;
using testing::MakePattern;

struct Size {
  int width, height;
};

Size ScaledSize(const std::vector<uint8_t>& jpeg, int min_width, int min_height) {
  Expected<Image> image = DecodeJpegAtLeast(jpeg.data(), jpeg.size(), "t.jpg", min_width, min_height);
  EXPECT_TRUE(image.ok()) << image.status().message();
  if (!image.ok()) return {0, 0};
  return {image->width, image->height};
}

#define EXPECT_SIZE(size, w, h)   \
  do {                            \
    const Size s_ = (size);       \
    EXPECT_EQ(s_.width, w);       \
    EXPECT_EQ(s_.height, h);      \
  } while (0)

TEST(DecodeJpegAtLeastTest, PicksTheSmallestScaleThatStillCoversTheTarget) {
  JpegOptions options;
  options.quality = 90;
  options.subsample = true;  // 4:2:0 like camera JPEGs: scaling must handle chroma too
  const std::vector<uint8_t> coco = EncodeJpeg(MakePattern(640, 480, 3), options);
  EXPECT_SIZE(ScaledSize(coco, 96, 96), 160, 120);    // 1/8 would give 80x60 < 96
  EXPECT_SIZE(ScaledSize(coco, 80, 60), 80, 60);      // exactly 1/8
  EXPECT_SIZE(ScaledSize(coco, 81, 60), 160, 120);    // one pixel more: 1/4
  EXPECT_SIZE(ScaledSize(coco, 128, 128), 320, 240);  // 1/4 gives 120 rows < 128: 1/2
  EXPECT_SIZE(ScaledSize(coco, 321, 10), 640, 480);   // only the full size is wide enough
  EXPECT_SIZE(ScaledSize(coco, 4000, 4000), 640, 480);  // nothing covers it: full size
  EXPECT_SIZE(ScaledSize(coco, 1, 1), 80, 60);
  // Odd sizes round up: ceil(101/8) = 13, ceil(77/8) = 10.
  const std::vector<uint8_t> odd = EncodeJpeg(MakePattern(101, 77, 3), options);
  EXPECT_SIZE(ScaledSize(odd, 13, 10), 13, 10);
  EXPECT_SIZE(ScaledSize(odd, 14, 10), 26, 20);
  EXPECT_SIZE(ScaledSize(odd, 26, 21), 51, 39);
  // A portrait image: the short side decides.
  const std::vector<uint8_t> portrait = EncodeJpeg(MakePattern(480, 640, 3), options);
  EXPECT_SIZE(ScaledSize(portrait, 96, 96), 120, 160);
  // The full size comes back on request, whatever the scale.
  ImageSize source;
  ASSERT_TRUE(DecodeJpegAtLeast(odd.data(), odd.size(), "t.jpg", 1, 1, &source).ok());
  EXPECT_EQ(source.width, 101);
  EXPECT_EQ(source.height, 77);
}

TEST(DecodeJpegAtLeastTest, GrayAndProgressiveScaleToo) {
  JpegOptions options;
  options.quality = 85;
  options.progressive = true;
  const std::vector<uint8_t> gray = EncodeJpeg(MakePattern(200, 120, 1), options);
  Expected<Image> image = DecodeJpegAtLeast(gray.data(), gray.size(), "g.jpg", 30, 30);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->width, 50);
  EXPECT_EQ(image->height, 30);
}

// Largest and mean absolute differences between two same-shape images.
void Compare(const Image& a, const Image& b, int* max_diff, double* mean_diff) {
  ASSERT_EQ(a.pixels.size(), b.pixels.size());
  int worst = 0;
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const int d = std::abs(a.pixels[i] - b.pixels[i]);
    worst = std::max(worst, d);
    sum += d;
  }
  *max_diff = worst;
  *mean_diff = sum / a.pixels.size();
}

TEST(DecodeJpegAtLeastTest, ScaledDecodeMatchesFullDecodeThenResize) {
  // On a smooth image the box filter of the scaled IDCT and the bilinear sampling of the
  // full-size decode see the same gradient: the 96x96 results agree within JPEG noise.
  JpegOptions options;
  options.quality = 90;
  options.subsample = true;
  const std::vector<uint8_t> jpeg = EncodeJpeg(MakePattern(640, 480, 3), options);
  Expected<Image> full = DecodeJpeg(jpeg.data(), jpeg.size(), "t.jpg");
  Expected<Image> scaled = DecodeJpegAtLeast(jpeg.data(), jpeg.size(), "t.jpg", 96, 96);
  ASSERT_TRUE(full.ok() && scaled.ok());
  ASSERT_EQ(scaled->width, 160);
  int max_diff = 0;
  double mean_diff = 0;
  Compare(ResizeBilinear(*full, 96, 96), ResizeBilinear(*scaled, 96, 96), &max_diff, &mean_diff);
  EXPECT_LE(max_diff, 3);
  EXPECT_LE(mean_diff, 1.0);
  // The scale-1 path is DecodeJpeg itself: bit-identical.
  Expected<Image> same = DecodeJpegAtLeast(jpeg.data(), jpeg.size(), "t.jpg", 640, 480);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->pixels == full->pixels);
}

Expected<Image> DecodeAtLeast96(const uint8_t* data, size_t size, const std::string& name) {
  return DecodeJpegAtLeast(data, size, name, 96, 96);
}
Expected<Image> DecodeAtLeast1(const uint8_t* data, size_t size, const std::string& name) {
  return DecodeJpegAtLeast(data, size, name, 1, 1);
}

TEST(DecodeJpegAtLeastTest, EveryTruncationIsAnErrorAtEveryScale) {
  for (bool progressive : {false, true}) {
    JpegOptions options;
    options.quality = 90;
    options.progressive = progressive;
    const std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(200, 130, 3), options);
    const std::vector<uint8_t> shorter(bytes.begin(), bytes.end() - 2);
    // The scaled decode reads every coefficient too: a cut file fails, never comes out gray.
    EXPECT_EQ(DecodeAllPrefixes(DecodeAtLeast1, shorter, "cat.jpg"), 0) << "progressive=" << progressive;
    EXPECT_EQ(DecodeAllPrefixes(DecodeAtLeast96, shorter, "cat.jpg"), 0) << "progressive=" << progressive;
  }
}

TEST(DecodeJpegAtLeastTest, RandomMutationsNeverCrash) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  const std::vector<uint8_t> bytes = EncodeJpeg(MakePattern(64, 48, 3), {80, true, true, {}});
  DecodeMutations(DecodeAtLeast1, bytes, seed, 300);
  Expected<Image> empty = DecodeJpegAtLeast(nullptr, 0, "e.jpg", 1, 1);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "e.jpg: empty file");
}

}  // namespace
}  // namespace personcls
