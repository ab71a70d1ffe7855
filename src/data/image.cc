// Format detection, file loading and dispatch to the decoders in image_*.cc.
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/memory_budget.h"
#include "data/image_internal.h"
#include "personcls/image.h"

namespace personcls {
namespace {

using image_internal::DecodeError;

// Image files are small; anything bigger is a mistake (a video, a disk image) that we
// refuse rather than read into memory.
constexpr int64_t kMaxFileBytes = int64_t{1} << 30;

std::string LowerExtension(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool IsPnmSpace(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

ImageFormat SniffImageFormat(const uint8_t* data, size_t size) {
  static constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::kJpeg;
  if (size >= 8 && std::memcmp(data, kPngSignature, 8) == 0) return ImageFormat::kPng;
  if (size >= 2 && data[0] == 'B' && data[1] == 'M') return ImageFormat::kBmp;
  // "P1".."P6" then whitespace, as netpbm requires; the whitespace keeps text files that
  // happen to start with "P3" from being taken for images.
  if (size >= 3 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6' && IsPnmSpace(data[2])) {
    return ImageFormat::kPnm;
  }
  // Raw .bin data has no magic number: it is recognised by file name in DecodeImage.
  return ImageFormat::kUnknown;
}

namespace {

Expected<Image> DecodeImageUnguarded(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) return DecodeError(name, "empty file");
  // Checked first: raw pixels may start with any bytes, a JPEG or PNG magic included.
  if (LowerExtension(name) == "bin") return DecodeRawBin(data, size, name);
  switch (SniffImageFormat(data, size)) {
    case ImageFormat::kJpeg: return DecodeJpeg(data, size, name);
    case ImageFormat::kPng: return DecodePng(data, size, name);
    case ImageFormat::kBmp: return DecodeBmp(data, size, name);
    case ImageFormat::kPnm: return DecodePnm(data, size, name);
    default: return DecodeError(name, "unknown image format (not JPEG, PNG, BMP, PNM or a .bin file)");
  }
}

}  // namespace

// Decoders size their output from the header, within kMaxImagePixels; an allocation that
// still fails (a memory limit) is one line naming the file.
Expected<Image> DecodeImage(const uint8_t* data, size_t size, const std::string& name) {
  return GuardAllocation(name, [&] { return DecodeImageUnguarded(data, size, name); });
}

Expected<Image> LoadImage(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return DecodeError(path, std::string("cannot open: ") + std::strerror(errno));
  // fopen accepts a directory on Linux; reading it would then fail with a vaguer error.
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0) return DecodeError(path, std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return DecodeError(path, std::string("cannot open: ") + std::strerror(EISDIR));
  if (info.st_size > kMaxFileBytes) {
    return DecodeError(path, "file too large (" + std::to_string(info.st_size) + " bytes, limit " +
                                 std::to_string(kMaxFileBytes) + ")");
  }

  std::vector<uint8_t> bytes;
  // st_size is only a hint (0 for pipes and /proc files): read until EOF.
  bytes.reserve(static_cast<size_t>(info.st_size > 0 ? info.st_size : 0));
  uint8_t chunk[1 << 16];
  while (true) {
    const size_t n = std::fread(chunk, 1, sizeof(chunk), file.get());
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (static_cast<int64_t>(bytes.size()) > kMaxFileBytes) {
      return DecodeError(path, "file too large (limit " + std::to_string(kMaxFileBytes) + " bytes)");
    }
    if (n < sizeof(chunk)) break;
  }
  if (std::ferror(file.get())) return DecodeError(path, std::string("read error: ") + std::strerror(errno));
  return DecodeImage(bytes.data(), bytes.size(), path);
}

bool HasImageExtension(const std::string& path) {
  const std::string ext = LowerExtension(path);
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp" || ext == "ppm" || ext == "pgm" ||
         ext == "pnm" || ext == "bin";
}

}  // namespace personcls
