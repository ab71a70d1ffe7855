// Writes the committed fuzz seed corpus (fuzz/seeds/<target>/) from our own encoders only:
// tests/data/image_encoders.h (libjpeg, libpng, and byte-by-byte BMP/PNM) and the TFLite
// writer. Every seed is decoded or loaded (and run) again here before it is written, so
// the corpus holds only valid inputs that reach deep into each parser, and stays small
// (each file under 4 KB). Output is deterministic.
//
//   build-fuzz/fuzz/make_seeds [fuzz/seeds]   (the default is the source tree's fuzz/seeds)
//
// Rerunning replaces the files it writes; it deletes nothing.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/image_cache.h"
#include "data/image_encoders.h"
#include "formats/safetensors/safetensors.h"
#include "formats/onnx/onnx_writer.h"
#include "formats/tflite/tflite_writer.h"
#include "graph_builder.h"
#include "personcls/image.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"

namespace personcls {
namespace {

using testing::BmpSpec;
using testing::Decoder;
using testing::GraphBuilder;
using testing::JpegOptions;
using testing::PngOptions;

namespace fs = std::filesystem;

constexpr size_t kMaxSeedBytes = 4096;

fs::path g_root;
int g_failures = 0;
int g_written = 0;

void Fail(const std::string& what) {
  std::fprintf(stderr, "make_seeds: %s\n", what.c_str());
  ++g_failures;
}

void Write(const std::string& target, const std::string& file, const std::vector<uint8_t>& bytes) {
  if (bytes.empty() || bytes.size() > kMaxSeedBytes) {
    Fail(target + "/" + file + ": " + std::to_string(bytes.size()) + " bytes (want 1.." + std::to_string(kMaxSeedBytes) + ")");
    return;
  }
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    Fail(target + "/" + file + ": cannot write");
    return;
  }
  ++g_written;
}

// Writes an image seed once `decode` accepts it with the expected size and channel count.
void WriteImage(const std::string& target, Decoder decode, const std::string& file, const std::vector<uint8_t>& bytes, int width,
                int height, int channels) {
  Expected<Image> image = decode(bytes.data(), bytes.size(), file);
  if (!image.ok()) return Fail(target + "/" + file + ": does not decode: " + image.status().message());
  if (image->width != width || image->height != height || image->channels != channels) {
    return Fail(target + "/" + file + ": decodes to " + std::to_string(image->width) + "x" + std::to_string(image->height) + "x" +
                std::to_string(image->channels) + ", want " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                std::to_string(channels));
  }
  Write(target, file, bytes);
}

std::vector<uint8_t> Bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// ---- JPEG ------------------------------------------------------------------------------

// EncodeJpeg with the libjpeg knobs the test helper does not expose: restart markers,
// arithmetic coding, optimized Huffman tables, no JFIF header and a COM marker.
struct JpegExtras {
  int restart_rows = 0;
  bool arithmetic = false;
  bool optimize = false;
  bool jfif = true;
  std::string comment;
};

std::vector<uint8_t> EncodeJpegEx(const Image& image, const JpegOptions& options, const JpegExtras& extras) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = image.width;
  cinfo.image_height = image.height;
  cinfo.input_components = image.channels;
  cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, options.quality, TRUE);
  if (!options.subsample) {
    for (int c = 0; c < cinfo.num_components; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  }
  if (options.progressive) jpeg_simple_progression(&cinfo);
  cinfo.restart_in_rows = extras.restart_rows;
  cinfo.arith_code = extras.arithmetic ? TRUE : FALSE;
  cinfo.optimize_coding = extras.optimize ? TRUE : FALSE;
  cinfo.write_JFIF_header = extras.jfif ? TRUE : FALSE;
  jpeg_start_compress(&cinfo, TRUE);
  if (!extras.comment.empty()) {
    jpeg_write_marker(&cinfo, JPEG_COM, reinterpret_cast<const JOCTET*>(extras.comment.data()),
                      static_cast<unsigned>(extras.comment.size()));
  }
  const size_t stride = static_cast<size_t>(image.width) * image.channels;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.pixels.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

void JpegSeeds() {
  const std::string t = "fuzz_image_jpeg";
  auto jpeg = [&](const std::string& file, const Image& image, int quality, bool progressive, bool subsample,
                  const JpegExtras* extras = nullptr) {
    JpegOptions options;
    options.quality = quality;
    options.progressive = progressive;
    options.subsample = subsample;
    const auto bytes = extras ? EncodeJpegEx(image, options, *extras) : testing::EncodeJpeg(image, options);
    WriteImage(t, DecodeJpeg, file, bytes, image.width, image.height, image.channels == 1 ? 1 : 3);
  };
  using testing::MakeNoise;
  using testing::MakePattern;
  jpeg("rgb_1x1_baseline_444.jpg", MakePattern(1, 1, 3), 90, false, false);
  jpeg("rgb_3x5_baseline_420.jpg", MakePattern(3, 5, 3), 75, false, true);
  jpeg("rgb_7x7_progressive_444.jpg", MakePattern(7, 7, 3), 90, true, false);
  jpeg("rgb_16x9_progressive_420.jpg", MakePattern(16, 9, 3), 60, true, true);
  jpeg("rgb_17x11_noise_baseline_420.jpg", MakeNoise(17, 11, 3, 1), 50, false, true);
  jpeg("gray_8x8_baseline.jpg", MakePattern(8, 8, 1), 95, false, false);
  jpeg("gray_5x3_progressive.jpg", MakePattern(5, 3, 1), 80, true, false);
  jpeg("gray_1x9_noise_baseline.jpg", MakeNoise(1, 9, 1, 2), 100, false, false);
  {
    const Image cmyk = MakePattern(4, 4, 4);  // libjpeg writes the Adobe marker for CMYK.
    JpegOptions options;
    options.quality = 90;
    WriteImage(t, DecodeJpeg, "cmyk_4x4_adobe.jpg", testing::EncodeJpeg(cmyk, options), 4, 4, 3);
  }
  {
    // A custom progressive script: DC first with successive approximation, then AC bands.
    const Image image = MakePattern(9, 6, 3);
    JpegOptions options;
    options.quality = 85;
    options.progressive = true;
    options.scans = {{3, {0, 1, 2}, 0, 0, 0, 1}, {1, {0}, 1, 5, 0, 0},  {1, {1}, 1, 63, 0, 0},
                     {1, {2}, 1, 63, 0, 0},      {1, {0}, 6, 63, 0, 0}, {3, {0, 1, 2}, 0, 0, 1, 0}};
    WriteImage(t, DecodeJpeg, "rgb_9x6_custom_scans.jpg", testing::EncodeJpeg(image, options), 9, 6, 3);
  }
  JpegExtras restart;
  restart.restart_rows = 1;
  restart.comment = "personcls fuzz seed";
  jpeg("rgb_16x16_restart_comment_420.jpg", MakePattern(16, 16, 3), 70, false, true, &restart);
  JpegExtras optimized;
  optimized.optimize = true;
  optimized.jfif = false;
  jpeg("rgb_6x4_optimized_nojfif.jpg", MakePattern(6, 4, 3), 90, false, false, &optimized);
  JpegExtras arithmetic;
  arithmetic.arithmetic = true;
  jpeg("rgb_5x5_arithmetic_progressive.jpg", MakePattern(5, 5, 3), 80, true, false, &arithmetic);
}

// ---- PNG -------------------------------------------------------------------------------

// Rows of `width` samples of `bits` each (1, 2, 4, 8 or 16), packed as PNG stores them.
std::vector<std::vector<uint8_t>> PackRows(int width, int height, int samples_per_pixel, int bits, uint32_t seed) {
  std::vector<std::vector<uint8_t>> rows;
  uint32_t state = seed * 2654435761u + 1;
  const uint32_t max = bits == 16 ? 0xFFFF : (1u << bits) - 1;
  for (int y = 0; y < height; ++y) {
    std::vector<uint8_t> row;
    int bit_pos = 0;
    for (int i = 0; i < width * samples_per_pixel; ++i) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      const uint32_t v = (state >> 8) % (max + 1);
      if (bits == 16) {
        row.push_back(static_cast<uint8_t>(v >> 8));
        row.push_back(static_cast<uint8_t>(v));
      } else if (bits == 8) {
        row.push_back(static_cast<uint8_t>(v));
      } else {
        if (bit_pos == 0) row.push_back(0);
        row.back() |= static_cast<uint8_t>(v << (8 - bits - bit_pos));
        bit_pos = (bit_pos + bits) % 8;
      }
    }
    rows.push_back(row);
  }
  return rows;
}

void PngSeeds() {
  const std::string t = "fuzz_image_png";
  auto png = [&](const std::string& file, int width, int height, int samples, int out_channels, PngOptions options,
                 uint32_t seed) {
    const auto bytes = testing::EncodePng(width, height, PackRows(width, height, samples, options.bit_depth, seed), options);
    WriteImage(t, DecodePng, file, bytes, width, height, out_channels);
  };
  auto opts = [](int color_type, int bit_depth, bool interlace = false) {
    PngOptions o;
    o.color_type = color_type;
    o.bit_depth = bit_depth;
    o.interlace = interlace;
    return o;
  };
  using testing::MakePattern;
  WriteImage(t, DecodePng, "rgb8_1x1.png", testing::EncodePng(MakePattern(1, 1, 3), PNG_COLOR_TYPE_RGB), 1, 1, 3);
  WriteImage(t, DecodePng, "rgb8_16x9_interlaced.png", testing::EncodePng(MakePattern(16, 9, 3), PNG_COLOR_TYPE_RGB, true), 16, 9, 3);
  WriteImage(t, DecodePng, "gray8_3x5.png", testing::EncodePng(MakePattern(3, 5, 1), PNG_COLOR_TYPE_GRAY), 3, 5, 1);
  png("rgb8_7x7_noise.png", 7, 7, 3, 3, opts(PNG_COLOR_TYPE_RGB, 8), 1);
  png("gray1_13x3.png", 13, 3, 1, 1, opts(PNG_COLOR_TYPE_GRAY, 1), 2);
  png("gray2_5x5_interlaced.png", 5, 5, 1, 1, opts(PNG_COLOR_TYPE_GRAY, 2, true), 3);
  png("gray4_7x2.png", 7, 2, 1, 1, opts(PNG_COLOR_TYPE_GRAY, 4), 4);
  png("gray16_4x3.png", 4, 3, 1, 1, opts(PNG_COLOR_TYPE_GRAY, 16), 5);
  png("rgb16_3x3.png", 3, 3, 3, 3, opts(PNG_COLOR_TYPE_RGB, 16), 6);
  png("rgba8_4x4.png", 4, 4, 4, 3, opts(PNG_COLOR_TYPE_RGB_ALPHA, 8), 7);
  png("rgba16_2x3_interlaced.png", 2, 3, 4, 3, opts(PNG_COLOR_TYPE_RGB_ALPHA, 16, true), 8);
  png("grayalpha8_5x3.png", 5, 3, 2, 1, opts(PNG_COLOR_TYPE_GRAY_ALPHA, 8), 9);
  png("grayalpha16_3x2.png", 3, 2, 2, 1, opts(PNG_COLOR_TYPE_GRAY_ALPHA, 16), 10);
  {
    PngOptions o = opts(PNG_COLOR_TYPE_PALETTE, 4);
    for (int i = 0; i < 16; ++i) o.palette.push_back({uint8_t(i * 16), uint8_t(255 - i * 9), uint8_t(i * i)});
    png("palette4_5x4.png", 5, 4, 1, 3, o, 11);
  }
  {
    PngOptions o = opts(PNG_COLOR_TYPE_PALETTE, 8, true);
    for (int i = 0; i < 256; ++i) o.palette.push_back({uint8_t(i), uint8_t(i * 3), uint8_t(255 - i)});
    o.palette_alpha = {0, 64, 128, 255, 200, 10};
    png("palette8_trns_6x6_interlaced.png", 6, 6, 1, 3, o, 12);
  }
  {
    PngOptions o = opts(PNG_COLOR_TYPE_PALETTE, 1);
    o.palette = {{10, 20, 30}, {200, 100, 50}};
    png("palette1_9x2.png", 9, 2, 1, 3, o, 13);
  }
  {
    PngOptions o = opts(PNG_COLOR_TYPE_PALETTE, 2);
    o.palette = {{0, 0, 0}, {85, 85, 85}, {170, 170, 170}, {255, 255, 255}};  // All gray.
    png("palette2_gray_3x3.png", 3, 3, 1, 3, o, 14);
  }
  {
    PngOptions o = opts(PNG_COLOR_TYPE_GRAY, 16);
    o.has_trans_color = true;
    o.trans_color.gray = 0x1234;
    png("gray16_trns_4x2.png", 4, 2, 1, 1, o, 15);
  }
  {
    PngOptions o = opts(PNG_COLOR_TYPE_RGB, 8);
    o.has_trans_color = true;
    o.trans_color.red = 40;
    o.trans_color.green = 40;
    o.trans_color.blue = 40;
    png("rgb8_trns_3x3.png", 3, 3, 3, 3, o, 16);
  }
}

// ---- BMP -------------------------------------------------------------------------------

// Packs `width` palette indices per row at `bpp` bits (1, 4 or 8), most significant first.
std::vector<std::vector<uint8_t>> IndexRows(int width, int height, int bpp, int colors) {
  std::vector<std::vector<uint8_t>> rows;
  for (int y = 0; y < height; ++y) {
    std::vector<uint8_t> row((width * bpp + 7) / 8, 0);
    for (int x = 0; x < width; ++x) {
      const int index = (x * 7 + y * 3) % colors;
      const int bit = x * bpp;
      row[bit / 8] |= static_cast<uint8_t>(index << (8 - bpp - bit % 8));
    }
    rows.push_back(row);
  }
  return rows;
}

BmpSpec PaletteBmp(int width, int height, int bpp, int colors, bool gray, int entry_bytes = 4) {
  BmpSpec spec;
  spec.width = width;
  spec.height = height;
  spec.bpp = bpp;
  for (int i = 0; i < colors; ++i) {
    const uint8_t v = static_cast<uint8_t>(i * 255 / (colors > 1 ? colors - 1 : 1));
    spec.palette.insert(spec.palette.end(), {v, gray ? v : uint8_t(255 - v), gray ? v : uint8_t(v / 2)});
    if (entry_bytes == 4) spec.palette.push_back(0);
  }
  spec.colors_used = entry_bytes == 4 && colors < (1 << bpp) ? colors : 0;
  spec.rows = IndexRows(width, height < 0 ? -height : height, bpp, colors);
  return spec;
}

// Direct-colour rows of `bytes_per_pixel` bytes from a noise image.
BmpSpec DirectBmp(int width, int height, int bpp, uint32_t seed) {
  BmpSpec spec;
  spec.width = width;
  spec.height = height;
  spec.bpp = bpp;
  const int rows = height < 0 ? -height : height;
  const Image noise = testing::MakeNoise(width * (bpp / 8), rows, 1, seed);
  for (int y = 0; y < rows; ++y) {
    spec.rows.emplace_back(noise.pixels.begin() + y * noise.width, noise.pixels.begin() + (y + 1) * noise.width);
  }
  return spec;
}

void BmpSeeds() {
  const std::string t = "fuzz_image_bmp";
  auto bmp = [&](const std::string& file, const BmpSpec& spec, int channels) {
    WriteImage(t, DecodeBmp, file, testing::BuildBmp(spec), spec.width, spec.height < 0 ? -spec.height : spec.height, channels);
  };
  using testing::MakePattern;
  WriteImage(t, DecodeBmp, "rgb24_1x1.bmp", testing::EncodeBmp24(MakePattern(1, 1, 3)), 1, 1, 3);
  WriteImage(t, DecodeBmp, "rgb24_3x5_topdown.bmp", testing::EncodeBmp24(MakePattern(3, 5, 3), true), 3, 5, 3);
  WriteImage(t, DecodeBmp, "rgb24_7x7.bmp", testing::EncodeBmp24(MakePattern(7, 7, 3)), 7, 7, 3);
  bmp("pal8_5x3.bmp", PaletteBmp(5, 3, 8, 6, false), 3);
  bmp("pal8_gray_16x9_topdown.bmp", PaletteBmp(16, -9, 8, 256, true), 1);
  bmp("pal4_5x3.bmp", PaletteBmp(5, 3, 4, 16, false), 3);
  bmp("pal1_13x2.bmp", PaletteBmp(13, 2, 1, 2, true), 1);
  {
    BmpSpec spec = PaletteBmp(3, 2, 8, 3, false, 3);
    spec.header_size = 12;  // OS/2 1.x core header: 3-byte palette entries.
    bmp("os2_pal8_3x2.bmp", spec, 3);
  }
  {
    BmpSpec spec = DirectBmp(2, 2, 24, 1);
    spec.header_size = 12;
    bmp("os2_rgb24_2x2.bmp", spec, 3);
  }
  bmp("rgb32_4x3.bmp", DirectBmp(4, 3, 32, 2), 3);
  {
    BmpSpec spec = DirectBmp(3, -2, 32, 3);
    spec.compression = 3;  // BI_BITFIELDS, masks after the 40-byte header (R G B X bytes).
    spec.masks = {0x000000FF, 0x0000FF00, 0x00FF0000};
    bmp("bitfields32_3x2_topdown.bmp", spec, 3);
  }
  {
    BmpSpec spec = DirectBmp(2, 3, 32, 4);
    spec.compression = 3;
    spec.header_size = 124;  // V5 header with the masks inside.
    spec.masks = {0x00FF0000, 0x0000FF00, 0x000000FF};
    bmp("v5_bitfields32_2x3.bmp", spec, 3);
  }
  bmp("rgb16_555_3x3.bmp", DirectBmp(3, 3, 16, 5), 3);
  {
    BmpSpec spec = DirectBmp(5, 2, 16, 6);
    spec.compression = 3;
    spec.header_size = 108;  // V4 header, 5-6-5.
    spec.masks = {0xF800, 0x07E0, 0x001F};
    bmp("v4_bitfields16_565_5x2.bmp", spec, 3);
  }
  {
    BmpSpec spec = DirectBmp(3, 2, 24, 7);
    spec.header_size = 64;  // OS/2 2.x header.
    bmp("os2v2_rgb24_3x2.bmp", spec, 3);
  }
}

// ---- PNM -------------------------------------------------------------------------------

std::vector<uint8_t> Pnm(const std::string& header, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out = Bytes(header);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void PnmSeeds() {
  const std::string t = "fuzz_image_pnm";
  using testing::MakeNoise;
  using testing::MakePattern;
  auto pnm = [&](const std::string& file, const std::vector<uint8_t>& bytes, int w, int h, int c) {
    WriteImage(t, DecodePnm, file, bytes, w, h, c);
  };
  pnm("p5_1x1.pgm", testing::EncodePnm(MakePattern(1, 1, 1)), 1, 1, 1);
  pnm("p6_3x5.ppm", testing::EncodePnm(MakePattern(3, 5, 3)), 3, 5, 3);
  pnm("p6_7x7_comment.ppm", testing::EncodePnm(MakeNoise(7, 7, 3, 1), "# made by personcls\n"), 7, 7, 3);
  pnm("p5_16x9.pgm", testing::EncodePnm(MakePattern(16, 9, 1)), 16, 9, 1);
  {
    std::vector<uint8_t> body;
    for (int i = 0; i < 9; ++i) body.insert(body.end(), {uint8_t(i * 7000 >> 8), uint8_t(i * 7000)});
    pnm("p5_16bit_3x3.pgm", Pnm("P5 3 3 65535\n", body), 3, 3, 1);
  }
  {
    std::vector<uint8_t> body;
    for (int i = 0; i < 12; ++i) body.insert(body.end(), {uint8_t(i * 90 >> 8), uint8_t(i * 90)});
    pnm("p6_maxval1000_2x2.ppm", Pnm("P6\n#c\n2\t2\r\n1000\n", body), 2, 2, 3);
  }
  pnm("p5_maxval1_4x2.pgm", Pnm("P5\n4 2\n1\n", {0, 1, 1, 0, 1, 0, 0, 1}), 4, 2, 1);
  pnm("p6_maxval15_2x1.ppm", Pnm("P6 2 1 15 ", {0, 5, 15, 7, 3, 1}), 2, 1, 3);
  pnm("p2_3x2_comments.pgm", Bytes("P2\n# ascii gray\n3 2 # size\n15\n0 1 2\n13 14 15\n"), 3, 2, 1);
  pnm("p2_16bit_2x2.pgm", Bytes("P2 2 2 65535 0 65535\n32768 1\n"), 2, 2, 1);
  pnm("p3_2x2.ppm", Bytes("P3\n2 2\n255\n255 0 0  0 255 0\n0 0 255  255 255 255\n"), 2, 2, 3);
  pnm("p3_1x3_tabs.ppm", Bytes("P3\t1\t3\t7\r\n1 2 3\t4 5 6\r\n7 0 7\n"), 1, 3, 3);
  {
    // Two images in one file: only the first is read.
    std::vector<uint8_t> bytes = testing::EncodePnm(MakePattern(2, 3, 1));
    const std::vector<uint8_t> second = testing::EncodePnm(MakePattern(3, 2, 3));
    bytes.insert(bytes.end(), second.begin(), second.end());
    pnm("p5_2x3_then_p6.pgm", bytes, 2, 3, 1);
  }
}

// ---- TFLite ----------------------------------------------------------------------------

void WriteModel(const std::string& file, const Graph& graph) {
  const std::string t = "fuzz_tflite_model";
  auto bytes = tflite_format::WriteTflite(graph);
  if (!bytes.ok()) return Fail(t + "/" + file + ": " + bytes.status().message());
  auto shared = std::make_shared<const std::vector<uint8_t>>(*bytes);
  auto loaded = LoadModelBytes(shared, file);
  if (!loaded.ok()) return Fail(t + "/" + file + ": " + loaded.status().message());
  auto interpreter = Interpreter::Create(*loaded);
  if (!interpreter.ok()) return Fail(t + "/" + file + ": " + interpreter.status().message());
  (*interpreter)->Invoke();
  Write(t, file, *bytes);
}

// testing::TinyInt8Graph (tests/graph_builder.h) with a description and a labels entry.
Graph Int8ConvMeanSoftmax() {
  Graph g = testing::TinyInt8Graph();
  g.description = "personcls fuzz seed";
  g.metadata["labels"] = {'a', ',', 'b', ',', 'c'};
  return g;
}

std::vector<float> Ramp(int n, float start, float step) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = start + step * static_cast<float>((i * 5) % 11 - 5);
  return v;
}

// float [1,6,6,3] -> CONV_2D 3x3 SAME stride 2 relu6 -> DEPTHWISE 3x3 SAME m=2 relu ->
// AVERAGE_POOL 3x3 VALID -> RESHAPE [1,8] -> FULLY_CONNECTED 3 -> SOFTMAX.
Graph FloatConvDwPoolFc() {
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 6, 6, 3});
  const int w1 = b.Const<float>(DType::kFloat32, {4, 3, 3, 3}, Ramp(4 * 27, 0.0f, 0.05f));
  const int b1 = b.Const<float>(DType::kFloat32, {4}, std::vector<float>{0.1f, -0.1f, 0.2f, 0.0f});
  const int c1 = b.Tensor(DType::kFloat32, {1, 3, 3, 4});
  const int w2 = b.Const<float>(DType::kFloat32, {1, 3, 3, 8}, Ramp(72, 0.01f, 0.1f));
  const int b2 = b.Const<float>(DType::kFloat32, {8}, Ramp(8, 0.0f, 0.01f));
  const int c2 = b.Tensor(DType::kFloat32, {1, 3, 3, 8});
  const int pool = b.Tensor(DType::kFloat32, {1, 1, 1, 8});
  const int shape = b.Const<int32_t>(DType::kInt32, {2}, std::vector<int32_t>{1, 8});
  const int flat = b.Tensor(DType::kFloat32, {1, 8});
  const int w3 = b.Const<float>(DType::kFloat32, {3, 8}, Ramp(24, 0.0f, 0.2f));
  const int b3 = b.Const<float>(DType::kFloat32, {3}, std::vector<float>{0.0f, 0.5f, -0.5f});
  const int logits = b.Tensor(DType::kFloat32, {1, 3});
  const int prob = b.Tensor(DType::kFloat32, {1, 3});
  OpOptions conv;
  conv.padding = Padding::kSame;
  conv.stride_h = conv.stride_w = 2;
  conv.activation = Activation::kRelu6;
  OpOptions dw;
  dw.padding = Padding::kSame;
  dw.depth_multiplier = 2;
  dw.activation = Activation::kRelu;
  OpOptions avg;
  avg.filter_h = avg.filter_w = 3;
  OpOptions softmax;
  softmax.softmax_beta = 0.5f;
  b.Op(OpType::kConv2D, {in, w1, b1}, {c1}, conv)
      .Op(OpType::kDepthwiseConv2D, {c1, w2, b2}, {c2}, dw)
      .Op(OpType::kAveragePool2D, {c2}, {pool}, avg)
      .Op(OpType::kReshape, {pool, shape}, {flat})
      .Op(OpType::kFullyConnected, {flat, w3, b3}, {logits})
      .Op(OpType::kSoftmax, {logits}, {prob}, softmax);
  b.Inputs({in}).Outputs({prob});
  return b.graph();
}

// int8 [1,3,5,2] -> PAD to [1,5,7,2] -> CONV_2D 3x3 VALID stride 2 (per tensor, no bias) ->
// MAX_POOL 2x2 SAME.
Graph Int8PadConvValid() {
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 3, 5, 2}, {0.1f}, {5});
  const int pads = b.Const<int32_t>(DType::kInt32, {4, 2}, std::vector<int32_t>{0, 0, 1, 1, 1, 1, 0, 0});
  const int padded = b.Tensor(DType::kInt8, {1, 5, 7, 2}, {0.1f}, {5});
  std::vector<int8_t> weights(2 * 3 * 3 * 2);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
  const int w = b.Const<int8_t>(DType::kInt8, {2, 3, 3, 2}, weights, {0.004f}, {0});
  const int conv = b.Tensor(DType::kInt8, {1, 2, 3, 2}, {0.08f}, {-10});
  const int pool = b.Tensor(DType::kInt8, {1, 1, 2, 2}, {0.08f}, {-10});
  OpOptions conv_opts;
  conv_opts.stride_h = conv_opts.stride_w = 2;
  OpOptions pool_opts;
  pool_opts.padding = Padding::kSame;
  pool_opts.stride_h = pool_opts.stride_w = 2;
  pool_opts.filter_h = pool_opts.filter_w = 2;
  b.Op(OpType::kPad, {in, pads}, {padded}).Op(OpType::kConv2D, {padded, w, -1}, {conv}, conv_opts).Op(OpType::kMaxPool2D, {conv}, {pool}, pool_opts);
  b.Inputs({in}).Outputs({pool});
  return b.graph();
}

// int8 [1,2,2,3] + [3] (broadcast constant, relu) -> LOGISTIC; a second float graph
// output path: float [2,3] + [2,3] -> LOGISTIC.
Graph AddLogistic() {
  GraphBuilder b;
  const int a = b.Tensor(DType::kInt8, {1, 2, 2, 3}, {0.05f}, {0});
  const int c = b.Const<int8_t>(DType::kInt8, {3}, std::vector<int8_t>{-100, 0, 100}, {0.02f}, {3});
  const int sum = b.Tensor(DType::kInt8, {1, 2, 2, 3}, {0.06f}, {-128});
  const int sig = b.Tensor(DType::kInt8, {1, 2, 2, 3}, {1.0f / 256}, {-128});
  const int fa = b.Tensor(DType::kFloat32, {2, 3});
  const int fb = b.Tensor(DType::kFloat32, {2, 3});
  const int fsum = b.Tensor(DType::kFloat32, {2, 3});
  const int fsig = b.Tensor(DType::kFloat32, {2, 3});
  OpOptions relu;
  relu.activation = Activation::kRelu;
  b.Op(OpType::kAdd, {a, c}, {sum}, relu).Op(OpType::kLogistic, {sum}, {sig}).Op(OpType::kAdd, {fa, fb}, {fsum}).Op(OpType::kLogistic, {fsum}, {fsig});
  b.Inputs({a, fa, fb}).Outputs({sig, fsig});
  return b.graph();
}

// float [1,4,4,2] -> QUANTIZE int8 -> MEAN over H,W keep_dims -> DEQUANTIZE float.
Graph QuantizeDequantize() {
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 4, 4, 2});
  const int q = b.Tensor(DType::kInt8, {1, 4, 4, 2}, {0.03f}, {-7});
  const int axes = b.Const<int32_t>(DType::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int mean = b.Tensor(DType::kInt8, {1, 1, 1, 2}, {0.03f}, {-7});
  const int out = b.Tensor(DType::kFloat32, {1, 1, 1, 2});
  OpOptions keep;
  keep.keep_dims = true;
  b.Op(OpType::kQuantize, {in}, {q}).Op(OpType::kMean, {q, axes}, {mean}, keep).Op(OpType::kDequantize, {mean}, {out});
  b.Inputs({in}).Outputs({out});
  return b.graph();
}

// int8 FULLY_CONNECTED on a [2,5] batch with a weight zero point and relu6, then RESHAPE
// without a shape operand.
Graph Int8FullyConnectedReshape() {
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {2, 5}, {0.1f}, {-1});
  std::vector<int8_t> weights(4 * 5);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<int8_t>(static_cast<int>(i * 53 % 200) - 100);
  const int w = b.Const<int8_t>(DType::kInt8, {4, 5}, weights, {0.01f}, {0});
  const int bias = b.Const<int32_t>(DType::kInt32, {4}, std::vector<int32_t>{100, -100, 0, 50}, {0.001f}, {0});
  const int fc = b.Tensor(DType::kInt8, {2, 4}, {0.03f}, {-128});
  const int out = b.Tensor(DType::kInt8, {1, 8}, {0.03f}, {-128});
  OpOptions relu6;
  relu6.activation = Activation::kRelu6;
  b.Op(OpType::kFullyConnected, {in, w, bias}, {fc}, relu6).Op(OpType::kReshape, {fc}, {out});
  b.Inputs({in}).Outputs({out});
  return b.graph();
}

void ModelSeeds() {
  WriteModel("int8_conv_mean_softmax.tflite", Int8ConvMeanSoftmax());
  WriteModel("float_conv_dw_avgpool_reshape_fc_softmax.tflite", FloatConvDwPoolFc());
  WriteModel("int8_pad_conv_valid_maxpool.tflite", Int8PadConvValid());
  WriteModel("add_logistic_int8_float.tflite", AddLogistic());
  WriteModel("quantize_mean_dequantize.tflite", QuantizeDequantize());
  WriteModel("int8_fc_reshape.tflite", Int8FullyConnectedReshape());
}

// ---- ONNX: float graphs above through our ONNX writer ---------------------------------

void OnnxSeeds() {
  const std::string t = "fuzz_onnx_model", file = "float_conv_dw_avgpool_reshape_fc_softmax.onnx";
  auto bytes = onnx_format::WriteOnnx(FloatConvDwPoolFc(), "seed");
  if (!bytes.ok()) return Fail(t + "/" + file + ": " + bytes.status().message());
  auto loaded = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(*bytes), file);
  if (!loaded.ok()) return Fail(t + "/" + file + ": " + loaded.status().message());
  auto interpreter = Interpreter::Create(*loaded);
  if (!interpreter.ok()) return Fail(t + "/" + file + ": " + interpreter.status().message());
  (*interpreter)->Invoke();
  Write(t, file, *bytes);
}

// ---- checkpoints, datasets, the image cache ------------------------------------------
// (.pth seeds are real torch.save files: fuzz/make_pth_seeds.py.)

void SafetensorsSeeds() {
  const std::string t = "fuzz_safetensors";
  auto emit = [&](const std::string& file, const safetensors::File& f) {
    const std::vector<uint8_t> bytes = safetensors::Serialize(f);
    auto back = safetensors::Parse(bytes, file);
    if (!back.ok() || back->tensors.size() != f.tensors.size()) return Fail(t + "/" + file + ": does not read back");
    Write(t, file, bytes);
  };
  safetensors::File a;
  a.tensors["backbone.conv1.conv.weight"] = safetensors::FromFloat({0.5f, -1.0f, 2.0f, 0.25f, 3.0f, -0.125f}, {2, 1, 3, 1});
  a.tensors["head.fc.bias"] = safetensors::FromFloat({0.1f, -0.1f}, {2});
  safetensors::Tensor nbt;
  nbt.dtype = "I64";
  nbt.bytes = {7, 0, 0, 0, 0, 0, 0, 0};
  a.tensors["backbone.conv1.norm.num_batches_tracked"] = nbt;
  a.metadata = {{"arch", "mbv2-rep-0.35"}, {"input_size", "32"}, {"labels", "no,yes"}};
  emit("checkpoint_f32_i64_metadata.safetensors", a);
  safetensors::File b;
  safetensors::Tensor half;
  half.dtype = "F16";
  half.shape = {3};
  half.bytes = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x00};
  b.tensors["h"] = half;
  b.tensors["scalar"] = safetensors::FromFloat({42.0f}, {});
  b.tensors["empty"] = safetensors::FromFloat({}, {0, 5});
  emit("f16_scalar_empty.safetensors", b);
}

void LabelsCsvSeeds() {
  const std::string t = "fuzz_labels_csv";
  auto emit = [&](const std::string& file, uint8_t classes_byte, const std::string& text) {
    std::vector<uint8_t> bytes = {classes_byte};
    bytes.insert(bytes.end(), text.begin(), text.end());
    Write(t, file, bytes);
  };
  emit("header_two_classes.csv", 1, "file,label\na.jpg,0\nsub/b.png,1\n");
  emit("crlf_no_header_three_classes.csv", 2, "x.ppm,2\r\ny.bmp,0\r\n\r\nz z.jpg,1\r\n");
}

void ImageCacheSeeds() {
  const std::string t = "fuzz_image_cache";
  for (int channels : {1, 3}) {
    ImageCache cache;
    cache.height = 3;
    cache.width = 2;
    cache.channels = channels;
    cache.records = {{9, "train2014/COCO_train2014_000000000009.jpg", 1, 640, 480}, {25, "val2014/x.jpg", 0, 33, 47}};
    cache.pixels.resize(cache.records.size() * cache.record_bytes());
    for (size_t i = 0; i < cache.pixels.size(); ++i) cache.pixels[i] = static_cast<uint8_t>(i * 37);
    const fs::path dir = fs::temp_directory_path() / ("make_seeds_cache_" + std::to_string(channels));
    fs::create_directories(dir);
    const std::string prefix = (dir / "split").string();
    if (Status s = WriteImageCache(prefix, cache); !s.ok()) return Fail(t + ": " + s.message());
    if (!ReadImageCache(prefix).ok()) return Fail(t + ": does not read back");
    std::ifstream data(prefix + ".pcache", std::ios::binary), index(prefix + ".index.csv", std::ios::binary);
    const std::vector<uint8_t> pcache((std::istreambuf_iterator<char>(data)), {}), csv((std::istreambuf_iterator<char>(index)), {});
    std::vector<uint8_t> bytes = {static_cast<uint8_t>(pcache.size() & 0xff), static_cast<uint8_t>(pcache.size() >> 8)};
    bytes.insert(bytes.end(), pcache.begin(), pcache.end());
    bytes.insert(bytes.end(), csv.begin(), csv.end());
    fs::remove_all(dir);
    Write(t, channels == 1 ? "gray_2x3_two_records.bin" : "rgb_2x3_two_records.bin", bytes);
  }
}

}  // namespace
}  // namespace personcls

int main(int argc, char** argv) {
  personcls::g_root = argc > 1 ? argv[1] : PERSONCLS_SEEDS_DIR;
  personcls::JpegSeeds();
  personcls::PngSeeds();
  personcls::BmpSeeds();
  personcls::PnmSeeds();
  personcls::ModelSeeds();
  personcls::OnnxSeeds();
  personcls::SafetensorsSeeds();
  personcls::LabelsCsvSeeds();
  personcls::ImageCacheSeeds();
  std::printf("make_seeds: wrote %d seeds under %s\n", personcls::g_written, personcls::g_root.c_str());
  if (personcls::g_failures) std::fprintf(stderr, "make_seeds: %d failures\n", personcls::g_failures);
  return personcls::g_failures ? 1 : 0;
}
