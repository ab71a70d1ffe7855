// Augmentation: geometric ops (affine warp, translate, rotate, resize, resized crop) and
// batch-level mixup / cutmix. See augment.h for the semantics of each.
#include <algorithm>
#include <cassert>
#include <cmath>

#include "data/augment.h"

namespace personcls {

void WarpAffineInverse(Image* img, const std::array<double, 6>& m, uint8_t fill) {
  const int w = img->width, h = img->height, ch = img->channels;
  const Image src = *img;
  const uint8_t* in = src.pixels.data();
  const size_t row = static_cast<size_t>(w) * ch;
  uint8_t* out = img->pixels.data();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double sx = m[0] * x + m[1] * y + m[2], sy = m[3] * x + m[4] * y + m[5];
      const double fx0 = std::floor(sx), fy0 = std::floor(sy);
      if (!(fx0 >= -1 && fy0 >= -1 && fx0 < w && fy0 < h)) {  // all four taps outside (or NaN)
        for (int c = 0; c < ch; ++c) *out++ = fill;
        continue;
      }
      const int x0 = static_cast<int>(fx0), y0 = static_cast<int>(fy0);
      const double ax = sx - fx0, ay = sy - fy0;
      const double w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
      // Taps outside read `fill`: point them at a fill pixel instead of branching per channel.
      uint8_t fill_px[3] = {fill, fill, fill};
      auto tap = [&](int ty, int tx) -> const uint8_t* {
        return (tx < 0 || ty < 0 || tx >= w || ty >= h) ? fill_px : in + ty * row + static_cast<size_t>(tx) * ch;
      };
      const uint8_t *p00 = tap(y0, x0), *p01 = tap(y0, x0 + 1), *p10 = tap(y0 + 1, x0), *p11 = tap(y0 + 1, x0 + 1);
      for (int c = 0; c < ch; ++c) {
        // Same value as interpolating along x, then y (bilinear), to rounding.
        const double v = w00 * p00[c] + w01 * p01[c] + w10 * p10[c] + w11 * p11[c];
        *out++ = static_cast<uint8_t>(std::clamp(std::floor(v + 0.5), 0.0, 255.0));
      }
    }
}

void Translate(Image* img, double tx, double ty, uint8_t fill) {
  WarpAffineInverse(img, {1, 0, -tx * img->width, 0, 1, -ty * img->height}, fill);
}

void Rotate(Image* img, double degrees, uint8_t fill) {
  // Clockwise on screen (y down) is the standard rotation matrix R(theta); the inverse map
  // is src = R(-theta) (dst - c) + c.
  const double t = degrees * M_PI / 180.0, cs = std::cos(t), sn = std::sin(t);
  const double cx = (img->width - 1) * 0.5, cy = (img->height - 1) * 0.5;
  WarpAffineInverse(img, {cs, sn, cx - cs * cx - sn * cy, -sn, cs, cy + sn * cx - cs * cy}, fill);
}

void StretchResize(Image* img, int width, int height) {
  if (img->width == width && img->height == height) return;
  *img = ResizeBilinear(*img, width, height);
}

CropRect SampleResizedCrop(std::mt19937_64& rng, int width, int height, double area_min, double area_max, double ratio_min,
                           double ratio_max) {
  assert(width > 0 && height > 0 && 0 < area_min && area_min <= area_max && 0 < ratio_min && ratio_min <= ratio_max);
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(ratio_min), log_hi = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * Uniform(rng, area_min, area_max);
    const double aspect = std::exp(Uniform(rng, log_lo, log_hi));
    const int w = static_cast<int>(std::lround(std::sqrt(target * aspect)));
    const int h = static_cast<int>(std::lround(std::sqrt(target / aspect)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int y = UniformInt(rng, 0, height - h);
      const int x = UniformInt(rng, 0, width - w);
      return {x, y, w, h};
    }
  }
  const double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < ratio_min) {
    h = std::clamp(static_cast<int>(std::lround(w / ratio_min)), 1, height);
  } else if (in_ratio > ratio_max) {
    w = std::clamp(static_cast<int>(std::lround(h * ratio_max)), 1, width);
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

void CropResize(Image* img, const CropRect& r, int out_w, int out_h) {
  assert(r.x >= 0 && r.y >= 0 && r.width > 0 && r.height > 0 && r.x + r.width <= img->width && r.y + r.height <= img->height);
  Image crop;
  crop.width = r.width;
  crop.height = r.height;
  crop.channels = img->channels;
  const size_t row = static_cast<size_t>(r.width) * img->channels;
  crop.pixels.resize(row * r.height);
  for (int y = 0; y < r.height; ++y) {
    const uint8_t* src = img->pixels.data() + (static_cast<size_t>(r.y + y) * img->width + r.x) * img->channels;
    std::copy(src, src + row, crop.pixels.data() + y * row);
  }
  *img = ResizeBilinear(crop, out_w, out_h);
}

namespace {

MixResult RollPartners(size_t n, double lambda) {
  MixResult r;
  r.lambda = lambda;
  r.partner.resize(n);
  for (size_t i = 0; i < n; ++i) r.partner[i] = static_cast<int>((i + n - 1) % n);
  return r;
}

void AssertSameShape(const std::vector<Image>& batch) {
  for ([[maybe_unused]] const Image& im : batch)
    assert(im.width == batch[0].width && im.height == batch[0].height && im.channels == batch[0].channels);
}

}  // namespace

MixResult MixupWithLambda(std::vector<Image>* batch, double lambda) {
  assert(lambda >= 0 && lambda <= 1);
  AssertSameShape(*batch);
  MixResult r = RollPartners(batch->size(), lambda);
  const std::vector<Image> orig = *batch;
  for (size_t i = 0; i < batch->size(); ++i) {
    const std::vector<uint8_t>& b = orig[r.partner[i]].pixels;
    std::vector<uint8_t>& a = (*batch)[i].pixels;
    for (size_t j = 0; j < a.size(); ++j) a[j] = static_cast<uint8_t>(std::floor(lambda * a[j] + (1 - lambda) * b[j] + 0.5));
  }
  return r;
}

MixResult Mixup(std::vector<Image>* batch, double alpha, std::mt19937_64& rng) {
  return MixupWithLambda(batch, Beta(rng, alpha, alpha));
}

MixResult CutmixWithBox(std::vector<Image>* batch, const CropRect& box) {
  AssertSameShape(*batch);
  if (batch->empty()) return {};
  const Image& first = (*batch)[0];
  assert(box.x >= 0 && box.y >= 0 && box.width >= 0 && box.height >= 0 && box.x + box.width <= first.width &&
         box.y + box.height <= first.height);
  const double lambda = 1.0 - static_cast<double>(box.width) * box.height / (static_cast<double>(first.width) * first.height);
  MixResult r = RollPartners(batch->size(), lambda);
  const std::vector<Image> orig = *batch;
  const size_t row = static_cast<size_t>(box.width) * first.channels;
  for (size_t i = 0; i < batch->size(); ++i)
    for (int y = box.y; y < box.y + box.height; ++y) {
      const size_t off = (static_cast<size_t>(y) * first.width + box.x) * first.channels;
      const uint8_t* src = orig[r.partner[i]].pixels.data() + off;
      std::copy(src, src + row, (*batch)[i].pixels.data() + off);
    }
  return r;
}

MixResult Cutmix(std::vector<Image>* batch, double alpha, std::mt19937_64& rng) {
  if (batch->empty()) return {};
  const int w = (*batch)[0].width, h = (*batch)[0].height;
  const double lambda0 = Beta(rng, alpha, alpha);
  const int cx = UniformInt(rng, 0, w - 1), cy = UniformInt(rng, 0, h - 1);
  const double r = 0.5 * std::sqrt(1.0 - lambda0);
  const int half_w = static_cast<int>(r * w), half_h = static_cast<int>(r * h);
  const int x0 = std::max(cx - half_w, 0), y0 = std::max(cy - half_h, 0);
  const int x1 = std::min(cx + half_w, w), y1 = std::min(cy + half_h, h);
  return CutmixWithBox(batch, {x0, y0, x1 - x0, y1 - y0});
}

}  // namespace personcls
