#include "video/overlay.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>

#include <fmt/core.h>

namespace personcls::video {

namespace {

constexpr int kGlyphW = 5, kGlyphH = 7, kAdvance = kGlyphW + 1;

// 5x7 glyphs, one byte per row, bit 4 = leftmost pixel.
struct Glyph {
  char c;
  uint8_t rows[kGlyphH];
};
constexpr Glyph kFont[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
};

const Glyph* FindGlyph(char c) {
  for (const Glyph& g : kFont)
    if (g.c == c) return &g;
  return nullptr;
}

constexpr uint8_t kGreen[3] = {40, 200, 60}, kRed[3] = {220, 50, 40}, kWhite[3] = {255, 255, 255}, kYellow[3] = {250, 220, 0},
                  kDark[3] = {30, 30, 30};

void FillRect(Image* img, int x0, int y0, int x1, int y1, const uint8_t color[3]) {
  x0 = std::max(x0, 0), y0 = std::max(y0, 0), x1 = std::min(x1, img->width), y1 = std::min(y1, img->height);
  for (int y = y0; y < y1; ++y) {
    uint8_t* row = img->pixels.data() + (static_cast<size_t>(y) * img->width) * 3;
    for (int x = x0; x < x1; ++x) std::copy(color, color + 3, row + 3 * x);
  }
}

}  // namespace

int TextWidth(const std::string& text, int scale) { return text.empty() ? 0 : (static_cast<int>(text.size()) * kAdvance - 1) * scale; }

void DrawText(Image* rgb, int x, int y, int scale, const std::string& text, const uint8_t color[3]) {
  assert(rgb->channels == 3);
  for (size_t i = 0; i < text.size(); ++i) {
    const Glyph* g = FindGlyph(text[i]);
    if (!g) continue;
    const int gx = x + static_cast<int>(i) * kAdvance * scale;
    for (int r = 0; r < kGlyphH; ++r)
      for (int c = 0; c < kGlyphW; ++c)
        if (g->rows[r] & (0x10 >> c)) FillRect(rgb, gx + c * scale, y + r * scale, gx + (c + 1) * scale, y + (r + 1) * scale, color);
  }
}

void DrawOverlay(Image* rgb, const OverlayInfo& info) {
  assert(rgb->channels == 3);
  const int w = rgb->width, h = rgb->height;
  if (w <= 0 || h <= 0) return;
  auto x_of = [&](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * w)); };
  const int bar = std::max(4, h / 20);
  // Border while present (under the bar's smoothed mark).
  if (info.present) {
    const int b = std::max(2, h / 100);
    FillRect(rgb, 0, 0, w, b, kGreen);
    FillRect(rgb, 0, h - bar - b, w, h - bar, kGreen);
    FillRect(rgb, 0, 0, b, h - bar, kGreen);
    FillRect(rgb, w - b, 0, w, h - bar, kGreen);
  }
  // Score bar.
  FillRect(rgb, 0, h - bar, w, h, kDark);
  FillRect(rgb, 0, h - bar, x_of(info.score), h, info.decision ? kGreen : kRed);
  for (double t : {info.enter, info.leave}) FillRect(rgb, x_of(t) - 1, h - bar, x_of(t) + 1, h, kYellow);
  FillRect(rgb, x_of(info.smoothed) - 1, h - bar - bar / 2, x_of(info.smoothed) + 1, h, kWhite);
  // Score text.
  const int scale = std::max(1, h / 120);
  const std::string text = fmt::format("{:.2f}", std::clamp(info.score, 0.0, 1.0)) + (info.present ? " PERSON" : "");
  const int pad = 2 * scale, x = 3 * scale + pad, y = 3 * scale + pad;
  FillRect(rgb, x - pad, y - pad, x + TextWidth(text, scale) + pad, y + kGlyphH * scale + pad, kDark);
  DrawText(rgb, x, y, scale, text, info.present ? kGreen : kWhite);
}

}  // namespace personcls::video
