// PNG encoding with libpng (8-bit gray or RGB, no interlace, default compression).
//
// As in image_png.cc, libpng's error callback longjmps back to the setjmp in EncodePng;
// the locals live across the jump are trivially destructible or declared before setjmp
// and only appended to through a pointer libpng holds, so no destructor is skipped.
#include <png.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "personcls/image.h"

namespace personcls {
namespace {

struct PngSink {
  std::vector<uint8_t>* bytes;
  char message[256];
};

void OnWriteError(png_structp png, png_const_charp message) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof(sink->message), "%s", message != nullptr ? message : "");
  png_longjmp(png, 1);
}
void OnWriteWarning(png_structp, png_const_charp) {}

void WriteToMemory(png_structp png, png_bytep data, size_t length) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->bytes->insert(sink->bytes->end(), data, data + length);
}
void FlushNothing(png_structp) {}

}  // namespace

Expected<std::vector<uint8_t>> EncodePng(const Image& image) {
  if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels)
    return Status::Error("cannot encode PNG: image is empty or malformed");
  std::vector<uint8_t> bytes;
  PngSink sink{&bytes, {0}};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, OnWriteError, OnWriteWarning);
  if (png == nullptr) return Status::Error("cannot encode PNG: out of memory");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return Status::Error(std::string("cannot encode PNG: ") + sink.message);
  }
  png_set_write_fn(png, &sink, WriteToMemory, FlushNothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               image.channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t stride = static_cast<size_t>(image.width) * image.channels;
  for (int y = 0; y < image.height; ++y) png_write_row(png, image.pixels.data() + stride * y);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return bytes;
}

Status WritePng(const std::string& path, const Image& image) {
  auto bytes = EncodePng(image);
  if (!bytes.ok()) return bytes.status().WithContext(path);
  return WriteFileAtomic(path, std::string(bytes->begin(), bytes->end()));
}

}  // namespace personcls
