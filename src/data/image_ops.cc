// Pixel preprocessing: bilinear resize and gray/RGB conversion.
#include <cassert>
#include <cstdint>
#include <vector>

#include "personcls/image.h"

namespace personcls {
namespace {

// Where one destination row or column samples the source: two source indices and their
// weights as integers over a common denominator, so interpolation is exact.
struct AxisTap {
  int lower;
  int upper;
  int64_t lower_weight;
  int64_t upper_weight;
};

// Half-pixel centres: source coordinate (i + 0.5) * src / dst - 0.5, written as the exact
// fraction ((2i + 1) * src - dst) / (2 * dst). Returns the taps; *denominator = 2 * dst.
// int64 cannot overflow: (2 * dst - 1) * src < 2^32 * 2^31.
std::vector<AxisTap> AxisTaps(int src, int dst, int64_t* denominator) {
  const int64_t q = int64_t{2} * dst;
  *denominator = q;
  std::vector<AxisTap> taps(static_cast<size_t>(dst));
  for (int i = 0; i < dst; ++i) {
    const int64_t n = (int64_t{2} * i + 1) * src - dst;
    int64_t lower = 0;
    int64_t frac = 0;
    if (n > 0) {
      lower = n / q;
      frac = n % q;
    }
    if (lower >= src - 1) {  // Past the last centre: clamp to the edge.
      lower = src - 1;
      frac = 0;
    }
    const int upper = static_cast<int>(lower + 1 < src ? lower + 1 : lower);
    taps[i] = AxisTap{static_cast<int>(lower), upper, q - frac, frac};
  }
  return taps;
}

// sum <= qx * qy * 255 = 4 * width * height * 255: fits in int64 for any destination that
// could be allocated (width * height < 2^52 bytes).
void ResizeRows(const Image& src, const std::vector<AxisTap>& xs, const std::vector<AxisTap>& ys, int64_t qx,
                int64_t qy, Image* dst) {
  const int channels = src.channels;
  const int64_t total = qx * qy;
  const int64_t half = total / 2;
  const size_t src_row = static_cast<size_t>(src.width) * channels;
  uint8_t* out = dst->pixels.data();
  for (const AxisTap& ty : ys) {
    const uint8_t* row0 = src.pixels.data() + static_cast<size_t>(ty.lower) * src_row;
    const uint8_t* row1 = src.pixels.data() + static_cast<size_t>(ty.upper) * src_row;
    for (const AxisTap& tx : xs) {
      const uint8_t* p0 = row0 + static_cast<size_t>(tx.lower) * channels;
      const uint8_t* p1 = row0 + static_cast<size_t>(tx.upper) * channels;
      const uint8_t* p2 = row1 + static_cast<size_t>(tx.lower) * channels;
      const uint8_t* p3 = row1 + static_cast<size_t>(tx.upper) * channels;
      for (int c = 0; c < channels; ++c) {
        const int64_t top = tx.lower_weight * p0[c] + tx.upper_weight * p1[c];
        const int64_t bottom = tx.lower_weight * p2[c] + tx.upper_weight * p3[c];
        const int64_t sum = ty.lower_weight * top + ty.upper_weight * bottom;
        *out++ = static_cast<uint8_t>((sum + half) / total);
      }
    }
  }
}

}  // namespace

Image ResizeBilinear(const Image& src, int width, int height) {
  assert(width > 0 && height > 0 && "ResizeBilinear: empty destination");
  assert(src.width > 0 && src.height > 0 && "ResizeBilinear: empty source");
  if (width <= 0 || height <= 0 || src.width <= 0 || src.height <= 0) return Image{};
  if (width == src.width && height == src.height) return src;

  Image dst;
  dst.width = width;
  dst.height = height;
  dst.channels = src.channels;
  dst.pixels.resize(static_cast<size_t>(width) * height * src.channels);
  int64_t qx = 0;
  int64_t qy = 0;
  const std::vector<AxisTap> xs = AxisTaps(src.width, width, &qx);
  const std::vector<AxisTap> ys = AxisTaps(src.height, height, &qy);
  ResizeRows(src, xs, ys, qx, qy, &dst);
  return dst;
}

Image ToGray(const Image& src) {
  assert(src.channels == 1 || src.channels == 3);
  if (src.channels != 3) return src;
  Image dst;
  dst.width = src.width;
  dst.height = src.height;
  dst.channels = 1;
  const size_t count = static_cast<size_t>(src.width) * src.height;
  dst.pixels.resize(count);
  const uint8_t* in = src.pixels.data();
  for (size_t i = 0; i < count; ++i, in += 3) {
    dst.pixels[i] = static_cast<uint8_t>((299 * in[0] + 587 * in[1] + 114 * in[2] + 500) / 1000);
  }
  return dst;
}

Image ToRgb(const Image& src) {
  assert(src.channels == 1 || src.channels == 3);
  if (src.channels != 1) return src;
  Image dst;
  dst.width = src.width;
  dst.height = src.height;
  dst.channels = 3;
  const size_t count = static_cast<size_t>(src.width) * src.height;
  dst.pixels.resize(count * 3);
  for (size_t i = 0; i < count; ++i) {
    dst.pixels[3 * i] = dst.pixels[3 * i + 1] = dst.pixels[3 * i + 2] = src.pixels[i];
  }
  return dst;
}

}  // namespace personcls
