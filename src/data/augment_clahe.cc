// CLAHE (contrast-limited adaptive histogram equalization), OpenCV's algorithm on one
// 8-bit plane; RGB images are equalized on their luma. See augment.h.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

#include "data/augment.h"

namespace personcls {
namespace {

// plane: H*W bytes, equalized in place. tiles_x x tiles_y tiles, tile t of an axis of size
// n spanning [t*n/tiles, (t+1)*n/tiles).
void ClahePlane(uint8_t* plane, int w, int h, double clip_limit, int tiles_x, int tiles_y) {
  std::vector<uint8_t> luts(static_cast<size_t>(tiles_x) * tiles_y * 256);
  for (int ty = 0; ty < tiles_y; ++ty)
    for (int tx = 0; tx < tiles_x; ++tx) {
      const int x0 = tx * w / tiles_x, x1 = (tx + 1) * w / tiles_x, y0 = ty * h / tiles_y, y1 = (ty + 1) * h / tiles_y;
      const int total = (x1 - x0) * (y1 - y0);
      int hist[256] = {};
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) ++hist[plane[static_cast<size_t>(y) * w + x]];
      const int limit = std::max(static_cast<int>(clip_limit * total / 256), 1);
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
      const double scale = total > 0 ? 255.0 / total : 0.0;
      int sum = 0;
      for (int i = 0; i < 256; ++i) {
        sum += hist[i];
        lut[i] = static_cast<uint8_t>(std::min(255.0, std::floor(sum * scale + 0.5)));
      }
    }
  // Each pixel blends the maps of the four tiles whose centres surround it.
  struct Tap {
    int t0, t1;
    double frac;
  };
  auto taps = [](int n, int tiles) {
    std::vector<Tap> out(static_cast<size_t>(n));
    const double tile = static_cast<double>(n) / tiles;
    for (int i = 0; i < n; ++i) {
      const double f = i / tile - 0.5;  // OpenCV's tile coordinate (no half-pixel offset)
      const int t0 = static_cast<int>(std::floor(f));
      out[i] = {std::max(t0, 0), std::min(t0 + 1, tiles - 1), f - t0};
    }
    return out;
  };
  const std::vector<Tap> xs = taps(w, tiles_x), ys = taps(h, tiles_y);
  for (int y = 0; y < h; ++y) {
    const Tap& ty = ys[y];
    const uint8_t* row0 = luts.data() + static_cast<size_t>(ty.t0) * tiles_x * 256;
    const uint8_t* row1 = luts.data() + static_cast<size_t>(ty.t1) * tiles_x * 256;
    for (int x = 0; x < w; ++x) {
      const Tap& tx = xs[x];
      uint8_t& v = plane[static_cast<size_t>(y) * w + x];
      const double top = row0[tx.t0 * 256 + v] * (1 - tx.frac) + row0[tx.t1 * 256 + v] * tx.frac;
      const double bottom = row1[tx.t0 * 256 + v] * (1 - tx.frac) + row1[tx.t1 * 256 + v] * tx.frac;
      v = static_cast<uint8_t>(std::clamp(std::floor(top * (1 - ty.frac) + bottom * ty.frac + 0.5), 0.0, 255.0));
    }
  }
}

}  // namespace

void Clahe(Image* img, double clip_limit, int tiles_x, int tiles_y) {
  assert(tiles_x >= 1 && tiles_y >= 1 && clip_limit > 0);
  const int w = img->width, h = img->height;
  tiles_x = std::min(tiles_x, w);
  tiles_y = std::min(tiles_y, h);
  if (img->channels == 1) {
    ClahePlane(img->pixels.data(), w, h, clip_limit, tiles_x, tiles_y);
    return;
  }
  // RGB: equalize Y and move every channel by Y' - Y, which keeps B - Y and R - Y (so Cb
  // and Cr) unchanged wherever no channel clips.
  const Image gray = ToGray(*img);
  Image eq = gray;
  ClahePlane(eq.pixels.data(), w, h, clip_limit, tiles_x, tiles_y);
  uint8_t* px = img->pixels.data();
  for (size_t i = 0; i < gray.pixels.size(); ++i, px += 3) {
    const int d = eq.pixels[i] - gray.pixels[i];
    for (int c = 0; c < 3; ++c) px[c] = static_cast<uint8_t>(std::clamp(px[c] + d, 0, 255));
  }
}

}  // namespace personcls
