// Netpbm decoding (PGM and PPM), written from the netpbm format descriptions.
//
// Supported: P5 (binary gray), P6 (binary RGB), P2 and P3 (their ASCII forms), with any
// maxval from 1 to 65535 (two big-endian bytes per sample above 255) and '#' comments
// between header fields. Samples are scaled to 0..255 with rounding; a sample above
// maxval (invalid) is clamped to maxval. Bytes after the first image are ignored (netpbm
// allows several images in one file). P1/P4 bitmaps and P7 (PAM) are rejected.
#include <algorithm>
#include <cstdint>
#include <string>

#include "data/image_internal.h"
#include "personcls/image.h"

namespace personcls {
namespace {

using image_internal::CheckDimensions;
using image_internal::DecodeError;

// Largest number a header field may hold; anything bigger is rejected before it could
// overflow (dimensions are further limited by kMaxImagePixels).
constexpr uint32_t kMaxHeaderNumber = 0x7fffffff;

bool IsSpace(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool IsDigit(uint8_t c) { return c >= '0' && c <= '9'; }

// A cursor over the file that reads whitespace-separated decimal numbers.
class PnmReader {
 public:
  PnmReader(const uint8_t* data, size_t size, size_t pos) : data_(data), size_(size), pos_(pos) {}

  enum class Result { kOk, kEnd, kNotANumber, kTooLarge };

  // Skips whitespace and comments (from '#' to the end of the line), then reads digits.
  Result ReadNumber(uint32_t* value) {
    SkipSpaceAndComments();
    if (pos_ >= size_) return Result::kEnd;
    if (!IsDigit(data_[pos_])) return Result::kNotANumber;
    uint64_t v = 0;
    while (pos_ < size_ && IsDigit(data_[pos_])) {
      v = v * 10 + (data_[pos_++] - '0');
      if (v > kMaxHeaderNumber) return Result::kTooLarge;
    }
    *value = static_cast<uint32_t>(v);
    return Result::kOk;
  }

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  bool AtEnd() const { return pos_ >= size_; }
  uint8_t Peek() const { return data_[pos_]; }
  void Advance(size_t n) { pos_ += n; }

 private:
  void SkipSpaceAndComments() {
    while (pos_ < size_) {
      if (IsSpace(data_[pos_])) {
        ++pos_;
      } else if (data_[pos_] == '#') {
        while (pos_ < size_ && data_[pos_] != '\n' && data_[pos_] != '\r') ++pos_;
      } else {
        break;
      }
    }
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_;
};

Status HeaderError(PnmReader::Result result, const char* field, const std::string& name) {
  switch (result) {
    case PnmReader::Result::kEnd: return DecodeError(name, std::string("truncated PNM header (no ") + field + ")");
    case PnmReader::Result::kTooLarge: return DecodeError(name, std::string("PNM ") + field + " too large");
    default: return DecodeError(name, std::string("invalid PNM header: expected ") + field);
  }
}

// Scales a sample from 0..maxval to 0..255, rounding to nearest.
uint8_t Scale(uint32_t value, uint32_t maxval) {
  value = std::min(value, maxval);
  if (maxval == 255) return static_cast<uint8_t>(value);
  return static_cast<uint8_t>((value * 255 + maxval / 2) / maxval);
}

}  // namespace

Expected<Image> DecodePnm(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) return DecodeError(name, "empty file");
  if (size < 2 || data[0] != 'P' || data[1] < '1' || data[1] > '7') return DecodeError(name, "not a PNM file");
  const char type = static_cast<char>(data[1]);
  if (type != '2' && type != '3' && type != '5' && type != '6') {
    return DecodeError(name, std::string("unsupported PNM type P") + type + " (only P2, P3, P5, P6)");
  }
  const bool ascii = type == '2' || type == '3';
  const int channels = type == '3' || type == '6' ? 3 : 1;

  PnmReader reader(data, size, 2);
  if (!reader.AtEnd() && !IsSpace(reader.Peek()) && reader.Peek() != '#') return DecodeError(name, "not a PNM file");
  uint32_t width = 0, height = 0, maxval = 0;
  PnmReader::Result result = reader.ReadNumber(&width);
  if (result != PnmReader::Result::kOk) return HeaderError(result, "width", name);
  result = reader.ReadNumber(&height);
  if (result != PnmReader::Result::kOk) return HeaderError(result, "height", name);
  result = reader.ReadNumber(&maxval);
  if (result != PnmReader::Result::kOk) return HeaderError(result, "maxval", name);
  if (maxval == 0 || maxval > 65535) return DecodeError(name, "invalid PNM maxval " + std::to_string(maxval));
  PCLS_RETURN_IF_ERROR(CheckDimensions(width, height, name));

  // Exactly one whitespace byte separates the header from binary data.
  if (reader.AtEnd()) return DecodeError(name, "truncated PNM header");
  if (!IsSpace(reader.Peek())) return DecodeError(name, "invalid PNM header after maxval");
  reader.Advance(1);

  const int64_t samples = int64_t{width} * height * channels;
  if (ascii) {
    // Each sample takes a digit and a separator (the last one may lack it): bound the
    // count by the bytes left before allocating.
    if (2 * samples - 1 > static_cast<int64_t>(reader.remaining())) {
      return DecodeError(name, "truncated PNM pixel data");
    }
  } else {
    const int64_t bytes = samples * (maxval > 255 ? 2 : 1);
    if (bytes > static_cast<int64_t>(reader.remaining())) {
      return DecodeError(name, "truncated PNM pixel data (need " + std::to_string(bytes) + " bytes, have " +
                                   std::to_string(reader.remaining()) + ")");
    }
  }

  Image image = image_internal::MakeImage(static_cast<int>(width), static_cast<int>(height), channels);
  uint8_t* out = image.pixels.data();
  if (ascii) {
    for (int64_t i = 0; i < samples; ++i) {
      uint32_t value = 0;
      result = reader.ReadNumber(&value);
      if (result == PnmReader::Result::kEnd) return DecodeError(name, "truncated PNM pixel data");
      if (result != PnmReader::Result::kOk) {
        return DecodeError(name, "invalid PNM sample at byte " + std::to_string(reader.pos()));
      }
      out[i] = Scale(value, maxval);
    }
  } else if (maxval > 255) {
    const uint8_t* in = data + reader.pos();
    for (int64_t i = 0; i < samples; ++i) out[i] = Scale((uint32_t{in[2 * i]} << 8) | in[2 * i + 1], maxval);
  } else {
    const uint8_t* in = data + reader.pos();
    for (int64_t i = 0; i < samples; ++i) out[i] = Scale(in[i], maxval);
  }
  return image;
}

}  // namespace personcls
