// The score overlay of `watch --out`: where the bar, ticks, border and text land.
#include "video/overlay.h"

#include <gtest/gtest.h>

#include <array>

namespace personcls::video {
namespace {

Image Gray(int w, int h, uint8_t v = 128) { return Image{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3, v)}; }

std::array<uint8_t, 3> At(const Image& img, int x, int y) {
  const uint8_t* p = &img.pixels[(static_cast<size_t>(y) * img.width + x) * 3];
  return {p[0], p[1], p[2]};
}

TEST(Overlay, TextFollowsTheFiveBySevenGlyphs) {
  Image img = Gray(40, 20, 0);
  const uint8_t white[3] = {255, 255, 255};
  DrawText(&img, 2, 3, 2, "1", white);
  // '1' rows: 0x04 0x0C 0x04 0x04 0x04 0x04 0x0E; bit 4 is the leftmost of 5 columns.
  const uint8_t rows[7] = {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E};
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 5; ++c)
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const bool lit = rows[r] & (0x10 >> c);
          EXPECT_EQ(At(img, 2 + 2 * c + dx, 3 + 2 * r + dy)[0], lit ? 255 : 0) << "row " << r << " col " << c;
        }
  EXPECT_EQ(TextWidth("0.50", 1), 4 * 6 - 1);
  EXPECT_EQ(TextWidth("", 3), 0);
  // Clipped at the edges, unknown characters are blanks.
  DrawText(&img, -7, 15, 3, "8?8", white);
  DrawText(&img, 38, -5, 1, "PERSON", white);
}

TEST(Overlay, BarTicksMarkAndBorder) {
  Image img = Gray(100, 100);
  OverlayInfo info;
  info.score = 0.75;
  info.smoothed = 0.3;
  info.decision = true;
  info.present = true;
  info.enter = 0.6;
  info.leave = 0.4;
  DrawOverlay(&img, info);
  const int bar = 5;  // max(4, 100 / 20)
  EXPECT_EQ(At(img, 10, 100 - 2), (std::array<uint8_t, 3>{40, 200, 60}));  // filled: green (Person)
  EXPECT_EQ(At(img, 90, 100 - 2), (std::array<uint8_t, 3>{30, 30, 30}));   // beyond the score: dark
  EXPECT_EQ(At(img, 60, 100 - 2), (std::array<uint8_t, 3>{250, 220, 0}));  // enter tick
  EXPECT_EQ(At(img, 40, 100 - 2), (std::array<uint8_t, 3>{250, 220, 0}));  // leave tick
  EXPECT_EQ(At(img, 30, 100 - bar - 1), (std::array<uint8_t, 3>{255, 255, 255}));  // smoothed mark above the bar
  EXPECT_EQ(At(img, 50, 0), (std::array<uint8_t, 3>{40, 200, 60}));  // border while present
  EXPECT_EQ(At(img, 50, 50), (std::array<uint8_t, 3>{128, 128, 128}));  // the picture itself
  // Not present, decided not a person: red bar, no border.
  Image quiet = Gray(100, 100);
  info.decision = false;
  info.present = false;
  info.score = 0.2;
  DrawOverlay(&quiet, info);
  EXPECT_EQ(At(quiet, 10, 100 - 2), (std::array<uint8_t, 3>{220, 50, 40}));
  EXPECT_EQ(At(quiet, 50, 0), (std::array<uint8_t, 3>{128, 128, 128}));
}

TEST(Overlay, TinyFramesDoNotBreakIt) {
  for (int size : {1, 2, 5}) {
    Image img = Gray(size, size);
    DrawOverlay(&img, OverlayInfo{});
    EXPECT_EQ(img.pixels.size(), static_cast<size_t>(size * size * 3));
  }
}

}  // namespace
}  // namespace personcls::video
