#include "explain/heatmap.h"

#include <algorithm>
#include <cmath>

namespace personcls::explain {
namespace {

// Source coordinate of destination index d (half-pixel centres), split into the lower
// neighbour and its weight.
void SourceCoordinate(int d, int in, int out, int* lo, int* hi, float* frac) {
  const float s = std::clamp((static_cast<float>(d) + 0.5f) * static_cast<float>(in) / static_cast<float>(out) - 0.5f, 0.0f,
                             static_cast<float>(in - 1));
  *lo = static_cast<int>(s);
  *hi = std::min(*lo + 1, in - 1);
  *frac = s - static_cast<float>(*lo);
}

uint8_t Channel(float v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); }

}  // namespace

std::vector<float> UpsampleBilinear(const std::vector<float>& map, int height, int width, int out_h, int out_w) {
  std::vector<float> out(static_cast<size_t>(out_h) * out_w);
  for (int y = 0; y < out_h; ++y) {
    int y0, y1;
    float fy;
    SourceCoordinate(y, height, out_h, &y0, &y1, &fy);
    for (int x = 0; x < out_w; ++x) {
      int x0, x1;
      float fx;
      SourceCoordinate(x, width, out_w, &x0, &x1, &fx);
      const float top = map[y0 * width + x0] * (1 - fx) + map[y0 * width + x1] * fx;
      const float bottom = map[y1 * width + x0] * (1 - fx) + map[y1 * width + x1] * fx;
      out[static_cast<size_t>(y) * out_w + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

void JetColor(float v, uint8_t rgb[3]) {
  v = std::clamp(v, 0.0f, 1.0f);
  rgb[0] = Channel(1.5f - std::fabs(4.0f * v - 3.0f));
  rgb[1] = Channel(1.5f - std::fabs(4.0f * v - 2.0f));
  rgb[2] = Channel(1.5f - std::fabs(4.0f * v - 1.0f));
}

Image OverlayHeatmap(const Image& image, const std::vector<float>& cam, int cam_h, int cam_w, float alpha) {
  const Image rgb = ToRgb(image);
  const std::vector<float> up = UpsampleBilinear(cam, cam_h, cam_w, rgb.height, rgb.width);
  Image out = rgb;
  for (size_t p = 0; p < up.size(); ++p) {
    uint8_t colour[3];
    JetColor(up[p], colour);
    for (int c = 0; c < 3; ++c) {
      const float v = (1.0f - alpha) * rgb.pixels[p * 3 + c] + alpha * colour[c];
      out.pixels[p * 3 + c] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 255.0f)));
    }
  }
  return out;
}

}  // namespace personcls::explain
