// Image decoding and pixel preprocessing.
//
// Every decoder returns an owning Image (8-bit, interleaved HWC, 1 or 3 channels) or an
// error Status whose one-line message names the file and the problem ("cat.jpg:
// truncated JPEG data"). Decoders never abort, never read past the given bytes, refuse
// images larger than kMaxImagePixels and check a header's size against the data before
// allocating for it. All are safe on untrusted input (each has a libFuzzer target).
//
// Channels: gray sources (gray JPEG/PNG/PNM, BMP with an all-gray palette) decode to 1
// channel, everything else to RGB. Convert with ToRgb/ToGray as the model needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "personcls/status.h"

namespace personcls {

// Upper bound on width*height accepted by decoders (guards against crafted headers that
// would make us allocate gigabytes).
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;  // 64 Mpixel

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;  // height * width * channels bytes, row-major HWC

  uint8_t at(int y, int x, int c) const { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
};

enum class ImageFormat { kUnknown, kJpeg, kPng, kBmp, kPnm, kRawBin };

// Guesses the format from the first bytes (magic numbers); kUnknown when none matches.
ImageFormat SniffImageFormat(const uint8_t* data, size_t size);

// Decoders for bytes already in memory. `name` is only used in error messages.
//
// JPEG (libjpeg-turbo): baseline and progressive; accurate integer IDCT and smooth chroma
//   upsampling, as PIL and TensorFlow decode. CMYK/YCCK is converted to RGB (Adobe's
//   inverted CMYK when the Adobe marker is present). Data ending early is an error
//   ("truncated JPEG data") rather than libjpeg's gray fill, whether the file itself ends
//   or a Huffman-coded scan runs into the EOI marker; a scan running into another marker
//   is "invalid JPEG: Corrupt JPEG data: premature end of data segment". Other recoverable
//   corruption warnings (extraneous bytes between markers) are tolerated. A header whose
//   smallest colour component has more 8x8 blocks than 8x the file's bytes is refused
//   before decoding ("truncated JPEG data: WxH pixels need more than the file's N bytes"):
//   Huffman data spends at least a bit per block, and real photos are far from that.
Expected<Image> DecodeJpeg(const uint8_t* data, size_t size, const std::string& name);
// JPEG decoded at a reduced size when that is enough: libjpeg-turbo's DCT scaling picks
//   the smallest of 1/8, 1/4, 1/2 and 1 whose output, ceil(size / denom) per dimension, is
//   still >= min_width x min_height (1 when none is). Scaling happens in the IDCT, so a
//   1/4 decode of a 640x480 photo to 160x120 is several times faster than a full one and
//   averages each 4x4 block (a box filter) instead of dropping samples. Same checks and
//   errors as DecodeJpeg; for a model input, ResizeBilinear the result to the exact size.
//   `source_size`, when given, receives the full (unscaled) width and height on success.
struct ImageSize {
  int width = 0, height = 0;
};
Expected<Image> DecodeJpegAtLeast(const uint8_t* data, size_t size, const std::string& name, int min_width, int min_height,
                                  ImageSize* source_size = nullptr);
// PNG (libpng): every colour type and bit depth; 16-bit samples scaled to 8 with rounding;
//   alpha (channel or tRNS) composited on black, v * a / 255 rounded; gamma ignored.
Expected<Image> DecodePng(const uint8_t* data, size_t size, const std::string& name);
// BMP: BI_RGB at 1/4/8/16/24/32 bits and BI_BITFIELDS at 16/32, bottom-up or top-down;
//   RLE and embedded JPEG/PNG are rejected. 32-bit alpha is ignored.
Expected<Image> DecodeBmp(const uint8_t* data, size_t size, const std::string& name);
// PNM: P5/P6 binary and P2/P3 ASCII, maxval 1..65535 scaled to 0..255 with rounding.
Expected<Image> DecodePnm(const uint8_t* data, size_t size, const std::string& name);
// Raw MLPerf Tiny tensor: exactly 96*96*3 bytes of RGB HWC.
Expected<Image> DecodeRawBin(const uint8_t* data, size_t size, const std::string& name);

// Decodes by magic number; a file ending in ".bin" is read as raw MLPerf data.
Expected<Image> DecodeImage(const uint8_t* data, size_t size, const std::string& name);
// Reads and decodes a file; errors start with the path ("x.png: cannot open: No such file
// or directory").
Expected<Image> LoadImage(const std::string& path);

// True for file names whose extension personcls reads as an image (.jpg .jpeg .png .bmp
// .ppm .pgm .pnm .bin, case-insensitive). Used when walking directories.
bool HasImageExtension(const std::string& path);

// Stretch-resizes to width x height with bilinear interpolation, half-pixel centres
// (source coordinate = (dst + 0.5) * src_size / dst_size - 0.5, clamped to the edge), as
// OpenCV's INTER_LINEAR and TensorFlow's resize(half_pixel_centers=True). Computed in
// exact integer arithmetic and rounded to nearest, ties up, so results do not depend on
// float evaluation (OpenCV's 11-bit fixed point and TensorFlow's float may differ by 1).
// No antialiasing: a large downscale samples, it does not average.
// Returns a copy when the size already matches. Needs a non-empty src and width, height
// > 0 (asserted; an empty Image is returned otherwise).
Image ResizeBilinear(const Image& src, int width, int height);

// RGB -> gray with the integer formula gray = (299 R + 587 G + 114 B + 500) / 1000.
// Gray input is returned unchanged.
Image ToGray(const Image& src);
// Gray -> RGB by replicating the channel; RGB input is returned unchanged.
Image ToRgb(const Image& src);

// PNG encoding (libpng): 8-bit gray or RGB, no interlace. Errors only for an empty or
// malformed Image.
Expected<std::vector<uint8_t>> EncodePng(const Image& image);
// Encodes and writes atomically (temporary file beside `path`, then rename); errors name
// the path.
Status WritePng(const std::string& path, const Image& image);

}  // namespace personcls
