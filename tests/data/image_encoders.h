// Test-only encoders that build small images in memory, so decoder tests do not depend on
// checked-in files: JPEG and PNG through libjpeg/libpng, BMP and PNM byte by byte.
#pragma once

#include <cstdint>
#include <cstdio>  // jpeglib.h needs FILE.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>

#include "personcls/image.h"

namespace personcls::testing {

// Deterministic smooth pattern (JPEG-friendly) with distinct values per channel.
inline Image MakePattern(int width, int height, int channels) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(static_cast<size_t>(width) * height * channels);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        image.pixels[(static_cast<size_t>(y) * width + x) * channels + c] =
            static_cast<uint8_t>(40 + 150 * x / (width > 1 ? width - 1 : 1) / (c + 1) + 60 * y / (height > 1 ? height - 1 : 1) + 7 * c);
      }
    }
  }
  return image;
}

// Pseudo-random bytes: exercises every value in lossless formats.
inline Image MakeNoise(int width, int height, int channels, uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(static_cast<size_t>(width) * height * channels);
  uint32_t state = seed * 2654435761u + 1;
  for (uint8_t& p : image.pixels) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    p = static_cast<uint8_t>(state >> 24);
  }
  return image;
}

// ---- JPEG ------------------------------------------------------------------------------

struct JpegOptions {
  int quality = 100;
  bool progressive = false;
  bool subsample = false;  // 4:2:0 chroma instead of 4:4:4.
  std::vector<jpeg_scan_info> scans;  // Custom progressive scan script when not empty.
  int restart_interval = 0;           // MCUs between RSTn markers; 0 writes none.
  bool arithmetic = false;            // arithmetic instead of Huffman coding
};

// `components` is 1 (gray), 3 (RGB) or 4 (CMYK, written with libjpeg's Adobe marker).
inline std::vector<uint8_t> EncodeJpeg(int width, int height, int components, const uint8_t* pixels,
                                       const JpegOptions& options = {}) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, options.quality, TRUE);
  if (!options.subsample) {
    for (int c = 0; c < cinfo.num_components; ++c) {
      cinfo.comp_info[c].h_samp_factor = 1;
      cinfo.comp_info[c].v_samp_factor = 1;
    }
  }
  if (options.progressive) jpeg_simple_progression(&cinfo);
  if (!options.scans.empty()) {
    cinfo.scan_info = options.scans.data();
    cinfo.num_scans = static_cast<int>(options.scans.size());
  }
  cinfo.restart_interval = options.restart_interval;
  cinfo.arith_code = options.arithmetic ? TRUE : FALSE;
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = static_cast<size_t>(width) * components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

inline std::vector<uint8_t> EncodeJpeg(const Image& image, const JpegOptions& options = {}) {
  return EncodeJpeg(image.width, image.height, image.channels, image.pixels.data(), options);
}

// ---- PNG -------------------------------------------------------------------------------

struct PngOptions {
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlace = false;
  std::vector<png_color> palette;      // For PNG_COLOR_TYPE_PALETTE.
  std::vector<uint8_t> palette_alpha;  // tRNS for palettes.
  bool has_trans_color = false;        // tRNS key colour for gray/RGB.
  png_color_16 trans_color{};
};

// `rows` holds height rows, each already packed as the PNG stores it (big-endian 16-bit
// samples, sub-byte pixels packed from the most significant bit).
inline std::vector<uint8_t> EncodePng(int width, int height, const std::vector<std::vector<uint8_t>>& rows,
                                      const PngOptions& options) {
  std::vector<uint8_t> out;
  // Built before setjmp: a longjmp must not skip a destructor.
  std::vector<png_bytep> pointers;
  for (const auto& row : rows) pointers.push_back(const_cast<png_bytep>(row.data()));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    ADD_FAILURE() << "libpng failed to encode the test image";
    return {};
  }
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, size_t length) {
        auto* sink = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(p));
        sink->insert(sink->end(), data, data + length);
      },
      [](png_structp) {});
  png_set_IHDR(png, info, width, height, options.bit_depth, options.color_type,
               options.interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!options.palette.empty()) {
    png_set_PLTE(png, info, options.palette.data(), static_cast<int>(options.palette.size()));
  }
  if (!options.palette_alpha.empty()) {
    png_set_tRNS(png, info, options.palette_alpha.data(), static_cast<int>(options.palette_alpha.size()), nullptr);
  }
  if (options.has_trans_color) png_set_tRNS(png, info, nullptr, 0, &options.trans_color);
  png_write_info(png, info);
  png_write_image(png, pointers.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

// 8-bit PNG from an image whose channel count matches the colour type.
inline std::vector<uint8_t> EncodePng(const Image& image, int color_type, bool interlace = false) {
  std::vector<std::vector<uint8_t>> rows;
  const size_t stride = static_cast<size_t>(image.width) * image.channels;
  for (int y = 0; y < image.height; ++y) {
    rows.emplace_back(image.pixels.begin() + y * stride, image.pixels.begin() + (y + 1) * stride);
  }
  PngOptions options;
  options.color_type = color_type;
  options.interlace = interlace;
  return EncodePng(image.width, image.height, rows, options);
}

// PNG chunk CRC (ISO 3309), for tests that patch headers.
inline uint32_t Crc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void PutBigEndian32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Rewrites IHDR's width and height (IHDR always starts at byte 8) and fixes its CRC.
inline void PatchPngSize(std::vector<uint8_t>* png, uint32_t width, uint32_t height) {
  uint8_t* ihdr = png->data() + 8;  // length(4) "IHDR"(4) data(13) crc(4)
  PutBigEndian32(ihdr + 8, width);
  PutBigEndian32(ihdr + 12, height);
  PutBigEndian32(ihdr + 8 + 13, Crc32(ihdr + 4, 4 + 13));
}

// ---- BMP -------------------------------------------------------------------------------

inline void PutLittleEndian(std::vector<uint8_t>* out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

struct BmpSpec {
  int width = 0;
  int height = 0;  // Negative for top-down.
  int bpp = 24;
  uint32_t header_size = 40;
  uint32_t compression = 0;
  std::vector<uint32_t> masks;          // BITFIELDS masks (r, g, b), written after a 40-byte header or inside larger ones.
  std::vector<uint8_t> palette;         // B, G, R(, 0) entries as stored.
  uint32_t colors_used = 0;
  std::vector<std::vector<uint8_t>> rows;  // File order, unpadded; padding is added here.
};

inline std::vector<uint8_t> BuildBmp(const BmpSpec& spec) {
  std::vector<uint8_t> dib;
  PutLittleEndian(&dib, spec.header_size, 4);
  if (spec.header_size == 12) {
    PutLittleEndian(&dib, spec.width, 2);
    PutLittleEndian(&dib, spec.height, 2);
    PutLittleEndian(&dib, 1, 2);
    PutLittleEndian(&dib, spec.bpp, 2);
  } else {
    PutLittleEndian(&dib, spec.width, 4);
    PutLittleEndian(&dib, static_cast<uint32_t>(spec.height), 4);
    PutLittleEndian(&dib, 1, 2);
    PutLittleEndian(&dib, spec.bpp, 2);
    PutLittleEndian(&dib, spec.compression, 4);
    PutLittleEndian(&dib, 0, 4);     // Image size (may be 0 for BI_RGB).
    PutLittleEndian(&dib, 2835, 4);  // 72 dpi.
    PutLittleEndian(&dib, 2835, 4);
    PutLittleEndian(&dib, spec.colors_used, 4);
    PutLittleEndian(&dib, 0, 4);
    if (spec.header_size > 40) {
      for (size_t i = 0; i < 3; ++i) PutLittleEndian(&dib, i < spec.masks.size() ? spec.masks[i] : 0, 4);
    }
    dib.resize(spec.header_size, 0);  // Remaining V4/V5 fields left zero.
  }
  if (spec.header_size == 40) {
    for (uint32_t mask : spec.masks) PutLittleEndian(&dib, mask, 4);
  }
  dib.insert(dib.end(), spec.palette.begin(), spec.palette.end());

  std::vector<uint8_t> pixels;
  for (const auto& row : spec.rows) {
    pixels.insert(pixels.end(), row.begin(), row.end());
    while (pixels.size() % 4 != 0) pixels.push_back(0);
  }
  std::vector<uint8_t> out = {'B', 'M'};
  PutLittleEndian(&out, static_cast<uint32_t>(14 + dib.size() + pixels.size()), 4);
  PutLittleEndian(&out, 0, 4);
  PutLittleEndian(&out, static_cast<uint32_t>(14 + dib.size()), 4);
  out.insert(out.end(), dib.begin(), dib.end());
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

// 24-bit BI_RGB BMP of an RGB image, bottom-up unless top_down.
inline std::vector<uint8_t> EncodeBmp24(const Image& image, bool top_down = false) {
  BmpSpec spec;
  spec.width = image.width;
  spec.height = top_down ? -image.height : image.height;
  for (int i = 0; i < image.height; ++i) {
    const int y = top_down ? i : image.height - 1 - i;
    std::vector<uint8_t> row;
    for (int x = 0; x < image.width; ++x) {
      row.push_back(image.at(y, x, 2));
      row.push_back(image.at(y, x, 1));
      row.push_back(image.at(y, x, 0));
    }
    spec.rows.push_back(row);
  }
  return BuildBmp(spec);
}

// ---- PNM -------------------------------------------------------------------------------

inline std::vector<uint8_t> EncodePnm(const Image& image, const std::string& header_extra = "") {
  std::string header = std::string(image.channels == 3 ? "P6" : "P5") + "\n" + header_extra +
                       std::to_string(image.width) + " " + std::to_string(image.height) + "\n255\n";
  std::vector<uint8_t> out(header.begin(), header.end());
  out.insert(out.end(), image.pixels.begin(), image.pixels.end());
  return out;
}

}  // namespace personcls::testing

namespace personcls::testing {

// A decoded image must be internally consistent whatever the input was.
inline void ExpectWellFormed(const Image& image) {
  EXPECT_GT(image.width, 0);
  EXPECT_GT(image.height, 0);
  EXPECT_TRUE(image.channels == 1 || image.channels == 3) << image.channels;
  EXPECT_LE(int64_t{image.width} * image.height, kMaxImagePixels);
  EXPECT_EQ(image.pixels.size(), static_cast<size_t>(image.width) * image.height * image.channels);
}

using Decoder = Expected<Image> (*)(const uint8_t*, size_t, const std::string&);

// Decodes every prefix of `bytes` (each copied into its own exact-size buffer, so a
// sanitizer build catches any read past the end). Each must be an error naming the file
// or a well-formed image. Returns how many prefixes decoded successfully.
inline int DecodeAllPrefixes(Decoder decode, const std::vector<uint8_t>& bytes, const std::string& name) {
  int successes = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + n);
    Expected<Image> image = decode(prefix.data(), prefix.size(), name);
    if (image.ok()) {
      ++successes;
      ExpectWellFormed(*image);
    } else {
      EXPECT_EQ(image.status().message().rfind(name + ": ", 0), 0u) << "prefix " << n << ": " << image.status().message();
      EXPECT_EQ(image.status().message().find('\n'), std::string::npos) << image.status().message();
    }
  }
  return successes;
}

// Flips random bytes of `bytes` many times; decoding must never crash.
inline void DecodeMutations(Decoder decode, const std::vector<uint8_t>& bytes, uint32_t seed, int iterations) {
  uint32_t state = seed | 1;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  for (int i = 0; i < iterations; ++i) {
    std::vector<uint8_t> mutated = bytes;
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int f = 0; f < flips; ++f) mutated[next() % mutated.size()] = static_cast<uint8_t>(next());
    Expected<Image> image = decode(mutated.data(), mutated.size(), "mutant");
    if (image.ok()) ExpectWellFormed(*image);
  }
}

inline bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace personcls::testing
