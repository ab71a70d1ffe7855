// PNG decoding with libpng.
//
// libpng reports errors through a callback that must not return; ours longjmps back to
// the setjmp in the function that called into libpng. As in image_jpeg.cc, those
// functions hold only trivially destructible locals, so the jump skips no destructor.
//
// Output is 8-bit, 1 channel for gray PNGs and 3 for colour (palette included):
//  - 16-bit samples are scaled to 8 bits with rounding (png_set_scale_16);
//  - alpha (an alpha channel or a tRNS chunk) is composited on black,
//    out = (v * a + 127) / 255, so fully transparent pixels are 0 whatever colour the
//    file stores under them;
//  - gAMA/iCCP/sRGB are ignored: samples are used as stored, like other ML pipelines do.
#include <png.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "data/image_internal.h"
#include "personcls/image.h"

namespace personcls {
namespace {

using image_internal::CheckDimensions;
using image_internal::DecodeError;

// Deflate cannot expand data by more than 1032x (a 258-byte match in 2 bits), so an image
// whose raw rows exceed this many times the file size cannot be complete; rejecting it
// before allocating stops tiny files from claiming huge images.
constexpr int64_t kMaxDeflateRatio = 1032;

// Input cursor and error state; libpng hands it back to the callbacks as io_ptr/error_ptr.
struct PngSource {
  const uint8_t* data;
  size_t size;
  size_t offset;
  bool truncated;
  char message[256];
};

void OnPngError(png_structp png, png_const_charp message) {
  auto* source = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(source->message, sizeof(source->message), "%s", message != nullptr ? message : "");
  png_longjmp(png, 1);
}

// Warnings concern recoverable problems (bad ancillary chunks, odd ICC profiles); they
// must not clutter the CLI output.
void OnPngWarning(png_structp, png_const_charp) {}

void ReadFromMemory(png_structp png, png_bytep out, size_t length) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (length > source->size - source->offset) {
    source->truncated = true;
    png_error(png, "truncated PNG data");
  }
  std::memcpy(out, source->data + source->offset, length);
  source->offset += length;
}

struct PngHeader {
  png_uint_32 width;
  png_uint_32 height;
  int bit_depth;    // As stored, before transforms.
  int color_type;   // As stored, before transforms.
  int channels;     // After transforms: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
  size_t rowbytes;  // After transforms.
};

// Reads the chunks before the image data. Nothing sized by the image is allocated yet,
// so the caller can check the dimensions first.
bool ReadHeader(png_structp png, png_infop info, PngHeader* header) {
  if (setjmp(png_jmpbuf(png))) return false;
  // libpng's default limit is 1,000,000 per side; allow the PNG maximum so that the
  // caller's kMaxImagePixels check decides (a 2,000,000 x 1 image is fine).
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  header->width = png_get_image_width(png, info);
  header->height = png_get_image_height(png, info);
  header->bit_depth = png_get_bit_depth(png, info);
  header->color_type = png_get_color_type(png, info);
  return true;
}

// Sets up the transforms to 8-bit samples. png_read_update_info allocates libpng's row
// buffers, so this must only run once the dimensions are known to be sane.
bool SetUpTransforms(png_structp png, png_infop info, PngHeader* header) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_scale_16(png);
  if (header->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (header->color_type == PNG_COLOR_TYPE_GRAY && header->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  header->channels = png_get_channels(png, info);
  header->rowbytes = png_get_rowbytes(png, info);
  return true;
}

bool ReadRows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  // png_read_end is skipped: chunks after the image data cannot change the pixels.
  return true;
}

// Owns the libpng structs so they are freed on every path.
class PngReadStruct {
 public:
  explicit PngReadStruct(PngSource* source) {
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, OnPngError, OnPngWarning);
    if (png_ == nullptr) return;
    info_ = png_create_info_struct(png_);
    png_set_read_fn(png_, source, ReadFromMemory);
  }
  ~PngReadStruct() {
    if (png_ != nullptr) png_destroy_read_struct(&png_, info_ != nullptr ? &info_ : nullptr, nullptr);
  }
  PngReadStruct(const PngReadStruct&) = delete;
  PngReadStruct& operator=(const PngReadStruct&) = delete;

  bool ok() const { return png_ != nullptr && info_ != nullptr; }
  png_structp png() { return png_; }
  png_infop info() { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

Status FailureStatus(const PngSource& source, const std::string& name) {
  if (source.truncated) return DecodeError(name, "truncated PNG data");
  return DecodeError(name, std::string("invalid PNG: ") + source.message);
}

// Composites `count` pixels of `channels` samples (the last one alpha) on black.
void CompositeOnBlack(const uint8_t* in, int channels, size_t count, uint8_t* out) {
  const int colors = channels - 1;
  for (size_t i = 0; i < count; ++i, in += channels) {
    const int alpha = in[colors];
    for (int c = 0; c < colors; ++c) *out++ = static_cast<uint8_t>((in[c] * alpha + 127) / 255);
  }
}

}  // namespace

Expected<Image> DecodePng(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) return DecodeError(name, "empty file");
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) return DecodeError(name, "not a PNG file (bad signature)");

  PngSource source{data, size, 0, false, {}};
  PngReadStruct reader(&source);
  if (!reader.ok()) return DecodeError(name, "cannot initialise libpng");
  PngHeader header{};
  if (!ReadHeader(reader.png(), reader.info(), &header)) return FailureStatus(source, name);

  PCLS_RETURN_IF_ERROR(CheckDimensions(header.width, header.height, name));
  const int stored_samples = header.color_type == PNG_COLOR_TYPE_PALETTE    ? 1
                             : header.color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                             : header.color_type == PNG_COLOR_TYPE_RGB        ? 3
                             : header.color_type == PNG_COLOR_TYPE_RGB_ALPHA  ? 4
                                                                              : 1;
  const int64_t raw_bits = int64_t{header.width} * header.height * stored_samples * header.bit_depth;
  if (raw_bits / 8 > static_cast<int64_t>(size) * kMaxDeflateRatio) {
    return DecodeError(name, "truncated PNG data (" + std::to_string(header.width) + "x" +
                                 std::to_string(header.height) + " image in " + std::to_string(size) + " bytes)");
  }
  if (!SetUpTransforms(reader.png(), reader.info(), &header)) return FailureStatus(source, name);
  if (header.channels < 1 || header.channels > 4 ||
      header.rowbytes != static_cast<size_t>(header.width) * header.channels) {
    // Cannot happen with the transforms above; guards the buffer arithmetic below.
    return DecodeError(name, "unsupported PNG pixel layout");
  }

  std::vector<uint8_t> buffer(header.rowbytes * header.height);
  std::vector<png_bytep> rows(header.height);
  for (png_uint_32 y = 0; y < header.height; ++y) rows[y] = buffer.data() + y * header.rowbytes;
  if (!ReadRows(reader.png(), rows.data())) return FailureStatus(source, name);

  const bool has_alpha = header.channels == 2 || header.channels == 4;
  const int out_channels = has_alpha ? header.channels - 1 : header.channels;
  Image image;
  image.width = static_cast<int>(header.width);
  image.height = static_cast<int>(header.height);
  image.channels = out_channels;
  if (!has_alpha) {
    image.pixels = std::move(buffer);
  } else {
    image.pixels.resize(static_cast<size_t>(image.width) * image.height * out_channels);
    CompositeOnBlack(buffer.data(), header.channels, static_cast<size_t>(image.width) * image.height,
                     image.pixels.data());
  }
  return image;
}

}  // namespace personcls
