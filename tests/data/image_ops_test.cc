#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "personcls/image.h"
#include "test_util.h"

namespace personcls {
namespace {

Image MakeImage(int width, int height, int channels, std::vector<uint8_t> pixels) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels = std::move(pixels);
  EXPECT_EQ(image.pixels.size(), static_cast<size_t>(width) * height * channels);
  return image;
}

// Straightforward double-precision version of the documented formula.
double ReferenceSample(const Image& src, int width, int height, int y, int x, int c) {
  auto axis = [](int i, int src_size, int dst_size, int* lo, int* hi, double* frac) {
    double s = (i + 0.5) * src_size / dst_size - 0.5;
    if (s < 0) s = 0;
    *lo = static_cast<int>(std::floor(s));
    if (*lo >= src_size - 1) {
      *lo = src_size - 1;
      s = *lo;
    }
    *hi = std::min(*lo + 1, src_size - 1);
    *frac = s - *lo;
  };
  int x0, x1, y0, y1;
  double fx, fy;
  axis(x, src.width, width, &x0, &x1, &fx);
  axis(y, src.height, height, &y0, &y1, &fy);
  const double top = src.at(y0, x0, c) * (1 - fx) + src.at(y0, x1, c) * fx;
  const double bottom = src.at(y1, x0, c) * (1 - fx) + src.at(y1, x1, c) * fx;
  return top * (1 - fy) + bottom * fy;
}

TEST(ResizeBilinearTest, TwoByTwoToFourByFour) {
  // Half-pixel centres at scale 1/2: destination columns sample source x = -0.25 (clamped
  // to 0), 0.25, 0.75 and 1.25 (clamped to 1), so a 0..100 ramp gives 0 25 75 100.
  const Image src = MakeImage(2, 2, 1, {0, 100, 100, 200});
  const Image dst = ResizeBilinear(src, 4, 4);
  ASSERT_EQ(dst.width, 4);
  ASSERT_EQ(dst.height, 4);
  ASSERT_EQ(dst.channels, 1);
  EXPECT_EQ(dst.pixels, (std::vector<uint8_t>{0, 25, 75, 100,      //
                                              25, 50, 100, 125,    //
                                              75, 100, 150, 175,   //
                                              100, 125, 175, 200}));
}

TEST(ResizeBilinearTest, Identity) {
  std::mt19937 rng(testing::TestSeed());
  Image src = MakeImage(7, 5, 3, std::vector<uint8_t>(7 * 5 * 3));
  for (uint8_t& p : src.pixels) p = static_cast<uint8_t>(rng());
  const Image dst = ResizeBilinear(src, 7, 5);
  EXPECT_EQ(dst.width, 7);
  EXPECT_EQ(dst.height, 5);
  EXPECT_EQ(dst.channels, 3);
  EXPECT_EQ(dst.pixels, src.pixels);
}

TEST(ResizeBilinearTest, DownscaleOfAGradientAveragesPairs) {
  // 8 -> 4 samples source x = 2i + 0.5: the mean of columns 2i and 2i+1.
  const Image src = MakeImage(8, 1, 1, {0, 10, 20, 30, 40, 50, 60, 70});
  EXPECT_EQ(ResizeBilinear(src, 4, 1).pixels, (std::vector<uint8_t>{5, 25, 45, 65}));
  // 3 -> 2 samples x = 0.25 and 1.75: 0.75*0 + 0.25*100 and 0.25*100 + 0.75*200.
  const Image three = MakeImage(3, 1, 1, {0, 100, 200});
  EXPECT_EQ(ResizeBilinear(three, 2, 1).pixels, (std::vector<uint8_t>{25, 175}));
  // Vertical works the same way, on every channel.
  const Image column = MakeImage(1, 3, 3, {0, 0, 0, 100, 50, 10, 200, 100, 20});
  EXPECT_EQ(ResizeBilinear(column, 1, 2).pixels, (std::vector<uint8_t>{25, 13, 3, 175, 88, 18}));
}

TEST(ResizeBilinearTest, RoundsHalfUp) {
  // 2 -> 4 weights are 1/4 and 3/4: 2 * 1/4 = 0.5 -> 1, 2 * 3/4 = 1.5 -> 2.
  const Image src = MakeImage(2, 1, 1, {0, 2});
  EXPECT_EQ(ResizeBilinear(src, 4, 1).pixels, (std::vector<uint8_t>{0, 1, 2, 2}));
  const Image ones = MakeImage(2, 1, 1, {0, 1});
  EXPECT_EQ(ResizeBilinear(ones, 4, 1).pixels, (std::vector<uint8_t>{0, 0, 1, 1}));
}

TEST(ResizeBilinearTest, SinglePixelAndConstantImages) {
  const Image one = MakeImage(1, 1, 3, {9, 99, 199});
  const Image dst = ResizeBilinear(one, 3, 2);
  EXPECT_EQ(dst.pixels, (std::vector<uint8_t>{9, 99, 199, 9, 99, 199, 9, 99, 199, 9, 99, 199, 9, 99, 199, 9, 99, 199}));
  const Image flat = MakeImage(5, 7, 1, std::vector<uint8_t>(35, 77));
  EXPECT_EQ(ResizeBilinear(flat, 96, 96).pixels, std::vector<uint8_t>(96 * 96, 77));
  EXPECT_EQ(ResizeBilinear(flat, 2, 3).pixels, std::vector<uint8_t>(6, 77));
}

TEST(ResizeBilinearTest, MatchesDoubleReferenceOnRandomImages) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const int sizes[][4] = {{13, 7, 96, 96}, {128, 128, 96, 96}, {97, 61, 13, 1}, {5, 3, 17, 11}, {640, 480, 96, 96}};
  for (const auto& s : sizes) {
    for (int channels : {1, 3}) {
      Image src = MakeImage(s[0], s[1], channels, std::vector<uint8_t>(static_cast<size_t>(s[0]) * s[1] * channels));
      for (uint8_t& p : src.pixels) p = static_cast<uint8_t>(rng());
      const Image dst = ResizeBilinear(src, s[2], s[3]);
      ASSERT_EQ(dst.pixels.size(), static_cast<size_t>(s[2]) * s[3] * channels);
      for (int y = 0; y < s[3]; ++y) {
        for (int x = 0; x < s[2]; ++x) {
          for (int c = 0; c < channels; ++c) {
            const double ref = ReferenceSample(src, s[2], s[3], y, x, c);
            const int got = dst.at(y, x, c);
            const double distance_to_tie = std::abs(ref - std::floor(ref) - 0.5);
            if (distance_to_tie < 1e-6) {
              // Exact ties round up; the double reference may land either side of them.
              EXPECT_NEAR(got, ref, 0.5 + 1e-6);
            } else {
              ASSERT_EQ(got, static_cast<int>(std::floor(ref + 0.5)))
                  << s[0] << "x" << s[1] << "->" << s[2] << "x" << s[3] << " at " << y << "," << x << "," << c;
            }
          }
        }
      }
    }
  }
}

TEST(ToGrayTest, IntegerFormulaOnAllCorners) {
  std::vector<uint8_t> rgb;
  for (int r : {0, 255})
    for (int g : {0, 255})
      for (int b : {0, 255}) rgb.insert(rgb.end(), {uint8_t(r), uint8_t(g), uint8_t(b)});
  const Image gray = ToGray(MakeImage(8, 1, 3, rgb));
  ASSERT_EQ(gray.channels, 1);
  // (299 R + 587 G + 114 B + 500) / 1000 with R, G, B in {0, 255}.
  EXPECT_EQ(gray.pixels, (std::vector<uint8_t>{0, 29, 150, 179, 76, 105, 226, 255}));
}

TEST(ToGrayTest, FormulaOnRandomPixelsAndGrayPassesThrough) {
  std::mt19937 rng(testing::TestSeed());
  Image src = MakeImage(13, 7, 3, std::vector<uint8_t>(13 * 7 * 3));
  for (uint8_t& p : src.pixels) p = static_cast<uint8_t>(rng());
  const Image gray = ToGray(src);
  ASSERT_EQ(gray.width, 13);
  ASSERT_EQ(gray.height, 7);
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 13; ++x) {
      EXPECT_EQ(gray.at(y, x, 0), (299 * src.at(y, x, 0) + 587 * src.at(y, x, 1) + 114 * src.at(y, x, 2) + 500) / 1000);
    }
  }
  EXPECT_EQ(ToGray(gray).pixels, gray.pixels);
}

TEST(ToRgbTest, ReplicatesGrayAndPassesRgbThrough) {
  const Image gray = MakeImage(3, 1, 1, {0, 128, 255});
  const Image rgb = ToRgb(gray);
  ASSERT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{0, 0, 0, 128, 128, 128, 255, 255, 255}));
  EXPECT_EQ(ToRgb(rgb).pixels, rgb.pixels);
  EXPECT_EQ(ToGray(rgb).pixels, gray.pixels);
}

}  // namespace
}  // namespace personcls
