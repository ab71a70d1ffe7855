// Augmentation: random draws and the per-pixel ops (flips, colour jitter, RGB shift,
// median blur, to-gray, tone curve). See augment.h for the semantics of each.
#include <algorithm>
#include <cassert>
#include <cmath>

#include "data/augment.h"

namespace personcls {
namespace {

uint8_t Clamp255(double v) { return static_cast<uint8_t>(std::clamp(std::floor(v + 0.5), 0.0, 255.0)); }

// Applies lut to every byte of every channel.
void ApplyLut(Image* img, const std::array<uint8_t, 256>& lut) {
  for (uint8_t& p : img->pixels) p = lut[p];
}

// Gamma(shape a, scale 1) by Marsaglia and Tsang; shape < 1 boosted by U^(1/a).
double Gamma(std::mt19937_64& rng, double a) {
  assert(a > 0);
  if (a < 1.0) return Gamma(rng, a + 1.0) * std::pow(std::max(Uniform01(rng), 1e-300), 1.0 / a);
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0, v = 0;
    do {
      x = Normal(rng);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = std::max(Uniform01(rng), 1e-300);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

}  // namespace

int UniformInt(std::mt19937_64& rng, int lo, int hi) {
  assert(lo <= hi);
  const int64_t span = int64_t{hi} - lo + 1;
  return static_cast<int>(std::min<int64_t>(lo + static_cast<int64_t>(Uniform01(rng) * static_cast<double>(span)), hi));
}

double Normal(std::mt19937_64& rng) {
  const double u1 = std::max(Uniform01(rng), 1e-300), u2 = Uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double Beta(std::mt19937_64& rng, double a, double b) {
  const double x = Gamma(rng, a), y = Gamma(rng, b);
  return x + y > 0 ? x / (x + y) : 0.5;
}

void FlipHorizontal(Image* img) {
  const int w = img->width, c = img->channels;
  for (int y = 0; y < img->height; ++y) {
    uint8_t* row = img->pixels.data() + static_cast<size_t>(y) * w * c;
    for (int x = 0; x < w / 2; ++x)
      std::swap_ranges(row + static_cast<size_t>(x) * c, row + static_cast<size_t>(x + 1) * c, row + static_cast<size_t>(w - 1 - x) * c);
  }
}

void FlipVertical(Image* img) {
  const size_t row_bytes = static_cast<size_t>(img->width) * img->channels;
  uint8_t* p = img->pixels.data();
  for (int y = 0; y < img->height / 2; ++y)
    std::swap_ranges(p + y * row_bytes, p + (y + 1) * row_bytes, p + static_cast<size_t>(img->height - 1 - y) * row_bytes);
}

void ColorJitter(Image* img, const ColorJitterParams& p) {
  assert(p.brightness >= 0 && p.contrast >= 0 && p.saturation >= 0);
  if (p.brightness != 1.0) {
    std::array<uint8_t, 256> lut;
    for (int v = 0; v < 256; ++v) lut[v] = Clamp255(v * p.brightness);
    ApplyLut(img, lut);
  }
  if (p.contrast != 1.0) {
    const Image gray = ToGray(*img);
    double sum = 0;
    for (uint8_t g : gray.pixels) sum += g;
    const double mean = gray.pixels.empty() ? 0.0 : sum / static_cast<double>(gray.pixels.size());
    std::array<uint8_t, 256> lut;
    for (int v = 0; v < 256; ++v) lut[v] = Clamp255(v * p.contrast + mean * (1.0 - p.contrast));
    ApplyLut(img, lut);
  }
  if (p.saturation != 1.0 && img->channels == 3) {
    const double s = p.saturation;
    uint8_t* px = img->pixels.data();
    const size_t n = static_cast<size_t>(img->width) * img->height;
    for (size_t i = 0; i < n; ++i, px += 3) {
      const double g = (299 * px[0] + 587 * px[1] + 114 * px[2] + 500) / 1000;  // ToGray's integer gray
      for (int c = 0; c < 3; ++c) px[c] = Clamp255(px[c] * s + g * (1.0 - s));
    }
  }
  if (p.hue != 0.0) HueShift(img, p.hue);
}

namespace {

// OpenCV's RGB2HSV_b for one pixel (color_hsv.simd.hpp): fixed point with 12 fraction bits,
// the divisions by tables rounded once to nearest; H in [0, 180), S and V in [0, 255].
struct HsvTables {
  std::array<int, 256> sdiv{}, hdiv{};
  HsvTables() {
    for (int i = 1; i < 256; ++i) {
      sdiv[i] = static_cast<int>(std::lround((255 << 12) / (1.0 * i)));  // no ties for i < 256
      hdiv[i] = static_cast<int>(std::lround((180 << 12) / (6.0 * i)));
    }
  }
};

void RgbToHsv8(int r, int g, int b, uint8_t* hsv) {
  static const HsvTables t;
  const int v = std::max({r, g, b}), vmin = std::min({r, g, b}), diff = v - vmin;
  const int s = (diff * t.sdiv[v] + (1 << 11)) >> 12;
  int h = v == r ? g - b : v == g ? b - r + 2 * diff : r - g + 4 * diff;
  h = (h * t.hdiv[diff] + (1 << 11)) >> 12;
  if (h < 0) h += 180;
  hsv[0] = static_cast<uint8_t>(h);
  hsv[1] = static_cast<uint8_t>(s);
  hsv[2] = static_cast<uint8_t>(v);
}

// OpenCV's HSV2RGB_b as its vector path computes it (all but the last few pixels of a row
// narrower than a vector block take that path): S and V / 255, sector = trunc(H x 6/180),
// the four tab values in single precision, then trunc(x 255). A value that lands within
// an ulp of an integer can come out one level apart from OpenCV's (5 of 118,368 values,
// tests/data/augment_test.cc; probably fused multiply-adds in OpenCV's AVX2 build).
void HsvToRgb8(const uint8_t* hsv, uint8_t* rgb) {
  const float s = hsv[1] * (1.0f / 255.0f), v = hsv[2] * (1.0f / 255.0f);
  float r, g, b;
  {
    static constexpr int kSector[6][3] = {{1, 3, 0}, {1, 0, 2}, {3, 0, 1}, {0, 2, 1}, {0, 1, 3}, {2, 1, 0}};
    // The vector path's sector: trunc(h), wrapped modulo 6. H is at most 180 here (the
    // hue table can round a value just below 180 up to 180, as numpy does), and
    // 180 x float(6 / 180) is just above 6: sector 0, h about 5e-7, as in OpenCV.
    float h = static_cast<float>(hsv[0]) * (6.0f / 180.0f);
    const int whole = static_cast<int>(h);
    h -= static_cast<float>(whole);
    const int sector = whole % 6;
    const float tab[4] = {v, v * (1.0f - s), v * (1.0f - s * h), v * (1.0f - s * (1.0f - h))};
    b = tab[kSector[sector][0]];
    g = tab[kSector[sector][1]];
    r = tab[kSector[sector][2]];
  }
  const float out[3] = {r, g, b};
  for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(std::clamp(std::trunc(out[c] * 255.0f), 0.0f, 255.0f));
}

}  // namespace

void HueShift(Image* img, double factor) {
  assert(factor >= -0.5 && factor <= 0.5);
  if (factor == 0.0 || img->channels != 3) return;
  // albumentations: lut = np.mod(np.arange(256) + 180 * factor, 180).astype(np.uint8)
  std::array<uint8_t, 256> lut;
  for (int i = 0; i < 256; ++i) {
    double m = std::fmod(i + 180.0 * factor, 180.0);
    if (m < 0) m += 180.0;
    lut[i] = static_cast<uint8_t>(m);
  }
  uint8_t* px = img->pixels.data();
  const size_t n = static_cast<size_t>(img->width) * img->height;
  for (size_t i = 0; i < n; ++i, px += 3) {
    uint8_t hsv[3];
    RgbToHsv8(px[0], px[1], px[2], hsv);
    hsv[0] = lut[hsv[0]];
    HsvToRgb8(hsv, px);
  }
}

ColorJitterParams SampleColorJitter(std::mt19937_64& rng, double strength) {
  const double lo = std::max(0.0, 1.0 - strength), hi = 1.0 + strength;
  ColorJitterParams p;
  p.brightness = Uniform(rng, lo, hi);
  p.contrast = Uniform(rng, lo, hi);
  p.saturation = Uniform(rng, lo, hi);
  return p;
}

void RgbShift(Image* img, const std::array<int, 3>& shift) {
  const int c = img->channels;
  std::array<std::array<uint8_t, 256>, 3> luts;
  for (int k = 0; k < c; ++k)
    for (int v = 0; v < 256; ++v) luts[k][v] = static_cast<uint8_t>(std::clamp(v + shift[k], 0, 255));
  uint8_t* px = img->pixels.data();
  const size_t n = static_cast<size_t>(img->width) * img->height;
  for (size_t i = 0; i < n; ++i, px += c)
    for (int k = 0; k < c; ++k) px[k] = luts[k][px[k]];
}

std::array<int, 3> SampleRgbShift(std::mt19937_64& rng, int limit) {
  return {UniformInt(rng, -limit, limit), UniformInt(rng, -limit, limit), UniformInt(rng, -limit, limit)};
}

namespace {

inline void Sort2(uint8_t& a, uint8_t& b) {
  const uint8_t lo = std::min(a, b);
  b = std::max(a, b);
  a = lo;
}

// Median of 9 by the 19-exchange network (Paeth; Devillard's opt_med9).
inline uint8_t Median9(uint8_t* p) {
  Sort2(p[1], p[2]); Sort2(p[4], p[5]); Sort2(p[7], p[8]);
  Sort2(p[0], p[1]); Sort2(p[3], p[4]); Sort2(p[6], p[7]);
  Sort2(p[1], p[2]); Sort2(p[4], p[5]); Sort2(p[7], p[8]);
  Sort2(p[0], p[3]); Sort2(p[5], p[8]); Sort2(p[4], p[7]);
  Sort2(p[3], p[6]); Sort2(p[1], p[4]); Sort2(p[2], p[5]);
  Sort2(p[4], p[7]); Sort2(p[4], p[2]); Sort2(p[6], p[4]);
  Sort2(p[4], p[2]);
  return p[4];
}

}  // namespace

void MedianBlur3(Image* img) {
  const int w = img->width, h = img->height, ch = img->channels;
  const Image src = *img;
  const size_t row = static_cast<size_t>(w) * ch;
  for (int y = 0; y < h; ++y) {
    // Rows above and below, replicated at the edges.
    const uint8_t* r0 = src.pixels.data() + std::max(y - 1, 0) * row;
    const uint8_t* r1 = src.pixels.data() + y * row;
    const uint8_t* r2 = src.pixels.data() + std::min(y + 1, h - 1) * row;
    uint8_t* out = img->pixels.data() + y * row;
    // Interior bytes: the same network on 9 plain locals, branch-free so the compiler
    // vectorizes it across the row (min/max on bytes).
    const size_t d = static_cast<size_t>(ch);
    for (size_t j = d; j + d < row; ++j) {
      uint8_t p[9] = {r0[j - d], r0[j], r0[j + d], r1[j - d], r1[j], r1[j + d], r2[j - d], r2[j], r2[j + d]};
      out[j] = Median9(p);
    }
    // First and last pixel: columns replicated.
    for (int x : {0, w - 1}) {
      const size_t xl = static_cast<size_t>(std::max(x - 1, 0)) * ch, xc = static_cast<size_t>(x) * ch,
                   xr = static_cast<size_t>(std::min(x + 1, w - 1)) * ch;
      for (int c = 0; c < ch; ++c) {
        uint8_t p[9] = {r0[xl + c], r0[xc + c], r0[xr + c], r1[xl + c], r1[xc + c], r1[xr + c], r2[xl + c], r2[xc + c], r2[xr + c]};
        out[xc + c] = Median9(p);
      }
    }
  }
}

void ToGray3(Image* img) {
  if (img->channels != 3) return;
  *img = ToRgb(ToGray(*img));
}

void ToneCurve(Image* img, double low_y, double high_y) {
  std::array<uint8_t, 256> lut;
  for (int v = 0; v < 256; ++v) {
    const double t = v / 255.0, u = 1.0 - t;
    lut[v] = Clamp255(255.0 * (3 * u * u * t * low_y + 3 * u * t * t * high_y + t * t * t));
  }
  ApplyLut(img, lut);
}

ToneCurveParams SampleToneCurve(std::mt19937_64& rng, double scale) {
  ToneCurveParams p;
  p.low_y = std::clamp(0.25 + scale * Normal(rng), 0.0, 1.0);
  p.high_y = std::clamp(0.75 + scale * Normal(rng), 0.0, 1.0);
  return p;
}

}  // namespace personcls
