// CLAHE (contrast-limited adaptive histogram equalization), OpenCV's algorithm on one
// 8-bit plane, to the bit; RGB images are equalized on L of OpenCV's 8-bit LAB, as
// albumentations does. See augment.h.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

#include "data/augment.h"
#include "data/color_lab.h"

namespace personcls {
namespace {

// BORDER_REFLECT_101 index into [0, n): ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...
int Reflect101(int p, int n) {
  if (n == 1) return 0;
  while (p < 0 || p >= n) p = p < 0 ? -p : 2 * n - 2 - p;
  return p;
}

// plane: H*W bytes, equalized in place, as OpenCV's CLAHE::apply computes it on 8-bit
// input: when a side is not a multiple of its tile count, the histograms are taken on the
// image extended (BORDER_REFLECT_101) by tiles - (H % tiles_y) rows and tiles - (W % tiles_x)
// columns (both, as OpenCV does, once either side needs it); all tiles then have the same
// size. LUTs and the bilinear blend are in single precision, rounded to nearest even.
void ClahePlane(uint8_t* plane, int w, int h, double clip_limit, int tiles_x, int tiles_y) {
  const bool extend = w % tiles_x != 0 || h % tiles_y != 0;
  const int ew = extend ? w + tiles_x - w % tiles_x : w, eh = extend ? h + tiles_y - h % tiles_y : h;
  const int tw = ew / tiles_x, th = eh / tiles_y, total = tw * th;
  std::vector<int> col(static_cast<size_t>(ew)), row(static_cast<size_t>(eh));
  for (int x = 0; x < ew; ++x) col[x] = Reflect101(x, w);
  for (int y = 0; y < eh; ++y) row[y] = Reflect101(y, h);
  const int limit = std::max(static_cast<int>(clip_limit * total / 256), 1);
  const float lut_scale = 255.0f / static_cast<float>(total);
  std::vector<uint8_t> luts(static_cast<size_t>(tiles_x) * tiles_y * 256);
  for (int ty = 0; ty < tiles_y; ++ty)
    for (int tx = 0; tx < tiles_x; ++tx) {
      int hist[256] = {};
      for (int y = ty * th; y < (ty + 1) * th; ++y)
        for (int x = tx * tw; x < (tx + 1) * tw; ++x) ++hist[plane[static_cast<size_t>(row[y]) * w + col[x]]];
      int clipped = 0;
      for (int& count : hist)
        if (count > limit) {
          clipped += count - limit;
          count = limit;
        }
      const int batch = clipped / 256;
      int residual = clipped - batch * 256;
      for (int& count : hist) count += batch;
      if (residual > 0) {
        const int step = std::max(256 / residual, 1);
        for (int i = 0; i < 256 && residual > 0; i += step, --residual) ++hist[i];
      }
      uint8_t* lut = luts.data() + (static_cast<size_t>(ty) * tiles_x + tx) * 256;
      int sum = 0;
      for (int i = 0; i < 256; ++i) {
        sum += hist[i];
        lut[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(static_cast<float>(sum) * lut_scale), 0.0f, 255.0f));
      }
    }
  // Each pixel blends the maps of the four tiles whose centres surround it.
  struct Tap {
    int t0, t1;
    float a;  // weight of t1
  };
  auto taps = [](int n, int tile, int tiles) {
    std::vector<Tap> out(static_cast<size_t>(n));
    const float inv = 1.0f / static_cast<float>(tile);
    for (int i = 0; i < n; ++i) {
      const float f = static_cast<float>(i) * inv - 0.5f;
      const int t0 = static_cast<int>(std::floor(f));
      out[i] = {std::max(t0, 0), std::min(t0 + 1, tiles - 1), f - static_cast<float>(t0)};
    }
    return out;
  };
  const std::vector<Tap> xs = taps(w, tw, tiles_x), ys = taps(h, th, tiles_y);
  for (int y = 0; y < h; ++y) {
    const Tap& ty = ys[y];
    const uint8_t* row0 = luts.data() + static_cast<size_t>(ty.t0) * tiles_x * 256;
    const uint8_t* row1 = luts.data() + static_cast<size_t>(ty.t1) * tiles_x * 256;
    for (int x = 0; x < w; ++x) {
      const Tap& tx = xs[x];
      uint8_t& v = plane[static_cast<size_t>(y) * w + x];
      const float top = row0[tx.t0 * 256 + v] * (1.0f - tx.a) + row0[tx.t1 * 256 + v] * tx.a;
      const float bottom = row1[tx.t0 * 256 + v] * (1.0f - tx.a) + row1[tx.t1 * 256 + v] * tx.a;
      v = static_cast<uint8_t>(std::clamp(std::nearbyint(top * (1.0f - ty.a) + bottom * ty.a), 0.0f, 255.0f));
    }
  }
}

}  // namespace

void Clahe(Image* img, double clip_limit, int tiles_x, int tiles_y) {
  assert(tiles_x >= 1 && tiles_y >= 1 && clip_limit > 0);
  const int w = img->width, h = img->height;
  if (w == 0 || h == 0) return;  // nothing to equalize (and nothing to reflect into)
  if (img->channels == 1) {
    ClahePlane(img->pixels.data(), w, h, clip_limit, tiles_x, tiles_y);
    return;
  }
  // RGB, as albumentations: OpenCV's 8-bit RGB -> LAB, L equalized, LAB -> RGB.
  // The conversions run in place; the L plane is the one scratch buffer.
  const size_t n = static_cast<size_t>(w) * h;
  uint8_t* px = img->pixels.data();
  RgbToLab8(px, px, n);
  std::vector<uint8_t> l(n);
  for (size_t i = 0; i < n; ++i) l[i] = px[i * 3];
  ClahePlane(l.data(), w, h, clip_limit, tiles_x, tiles_y);
  for (size_t i = 0; i < n; ++i) px[i * 3] = l[i];
  LabToRgb8(px, px, n);
}

}  // namespace personcls
