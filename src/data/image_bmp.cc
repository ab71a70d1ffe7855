// BMP decoding, written from the format description (Microsoft's BITMAPFILEHEADER and
// BITMAPINFOHEADER family).
//
// Supported: the OS/2 1.x core header (12 bytes) and the Windows headers (40, 52, 56,
// 108 and 124 bytes, and the 64-byte OS/2 2.x header); uncompressed BI_RGB at 1, 4, 8,
// 16 (5-5-5), 24 and 32 bits, and BI_BITFIELDS at 16 and 32 bits; bottom-up and top-down
// row order. RLE and embedded JPEG/PNG are rejected with their compression code.
//
// Output: palette images whose palette is all gray decode to 1 channel (the usual 8-bit
// grayscale BMP), everything else to RGB. Alpha (32-bit) is ignored, since most writers
// leave it zero. Palette indices past the palette read as black, as browsers do.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>

#include "data/image_internal.h"
#include "personcls/image.h"

namespace personcls {
namespace {

using image_internal::CheckDimensions;
using image_internal::DecodeError;

constexpr size_t kFileHeaderSize = 14;
constexpr uint32_t kBiRgb = 0;
constexpr uint32_t kBiBitfields = 3;

uint16_t ReadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t ReadU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
int32_t ReadI32(const uint8_t* p) { return static_cast<int32_t>(ReadU32(p)); }

std::string CompressionName(uint32_t compression) {
  switch (compression) {
    case 1: return " (RLE8)";
    case 2: return " (RLE4)";
    case 3: return " (BITFIELDS)";
    case 4: return " (JPEG)";
    case 5: return " (PNG)";
    case 6: return " (ALPHABITFIELDS)";
    default: return "";
  }
}

// One colour channel stored under a bit mask, scaled to 0..255 with rounding.
struct Channel {
  uint32_t mask = 0;
  int shift = 0;
  uint64_t max = 0;  // Largest value under the mask after shifting.

  static bool Make(uint32_t mask, Channel* channel) {
    if (mask == 0) return false;
    channel->mask = mask;
    channel->shift = std::countr_zero(mask);
    const uint32_t shifted = mask >> channel->shift;
    if ((shifted & (shifted + uint64_t{1})) != 0) return false;  // Not one contiguous run.
    channel->max = shifted;
    return true;
  }
  uint8_t Extract(uint32_t pixel) const {
    const uint64_t value = (pixel & mask) >> shift;
    return static_cast<uint8_t>((value * 255 + max / 2) / max);
  }
};

struct BmpInfo {
  int64_t width = 0;
  int64_t height = 0;  // Absolute value.
  bool top_down = false;
  int bpp = 0;
  uint32_t compression = kBiRgb;
  Channel red, green, blue;  // For 16 and 32 bits.
  const uint8_t* palette = nullptr;
  int palette_size = 0;
  int palette_entry = 4;  // Bytes per entry: 3 for the OS/2 1.x header.
  size_t pixel_offset = 0;
  int64_t stride = 0;
};

Status ParseHeaders(const uint8_t* data, size_t size, const std::string& name, BmpInfo* info) {
  if (size < 2 || data[0] != 'B' || data[1] != 'M') return DecodeError(name, "not a BMP file (no 'BM' signature)");
  if (size < kFileHeaderSize + 4) return DecodeError(name, "truncated BMP header");
  const uint32_t pixel_offset = ReadU32(data + 10);
  const uint32_t header_size = ReadU32(data + kFileHeaderSize);
  switch (header_size) {
    case 12: case 40: case 52: case 56: case 64: case 108: case 124:
      break;
    default:
      return DecodeError(name, "unsupported BMP header size " + std::to_string(header_size));
  }
  if (size < kFileHeaderSize + header_size) return DecodeError(name, "truncated BMP header");
  const uint8_t* h = data + kFileHeaderSize;
  uint32_t colors_used = 0;
  int64_t signed_height = 0;
  if (header_size == 12) {
    info->width = ReadU16(h + 4);
    signed_height = ReadU16(h + 6);
    info->bpp = ReadU16(h + 10);
    info->palette_entry = 3;
  } else {
    info->width = ReadI32(h + 4);
    signed_height = ReadI32(h + 8);
    info->bpp = ReadU16(h + 14);
    info->compression = ReadU32(h + 16);
    colors_used = ReadU32(h + 32);
  }
  info->top_down = signed_height < 0;
  info->height = signed_height < 0 ? -signed_height : signed_height;  // int64: no overflow at INT32_MIN.

  // In the OS/2 2.x header, code 3 means Huffman 1D rather than BITFIELDS.
  const bool bitfields = info->compression == kBiBitfields && header_size != 64;
  if (info->compression != kBiRgb && !bitfields) {
    return DecodeError(name, "unsupported BMP compression " + std::to_string(info->compression) +
                                 (header_size == 64 ? std::string(" (OS/2)") : CompressionName(info->compression)));
  }
  const int bpp = info->bpp;
  const bool valid_bpp = bitfields ? (bpp == 16 || bpp == 32)
                                   : (bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 || bpp == 32);
  if (!valid_bpp) {
    return DecodeError(name, "unsupported BMP bit depth " + std::to_string(bpp) + (bitfields ? " with BITFIELDS" : ""));
  }
  PCLS_RETURN_IF_ERROR(CheckDimensions(info->width, info->height, name));

  // BITFIELDS masks sit inside the larger headers, or just after a 40-byte one.
  size_t palette_start = kFileHeaderSize + header_size;
  uint32_t masks[3] = {0x7C00, 0x03E0, 0x001F};  // BI_RGB at 16 bits is 5-5-5.
  if (bitfields) {
    if (header_size == 40) {
      if (size < palette_start + 12) return DecodeError(name, "truncated BMP header (bit masks)");
      palette_start += 12;
    }
    const uint8_t* m = data + kFileHeaderSize + 40;
    for (int i = 0; i < 3; ++i) masks[i] = ReadU32(m + 4 * i);
  } else if (bpp == 32) {
    masks[0] = 0x00FF0000;
    masks[1] = 0x0000FF00;
    masks[2] = 0x000000FF;
  }
  if (bpp == 16 || bpp == 32) {
    if (!Channel::Make(masks[0], &info->red) || !Channel::Make(masks[1], &info->green) ||
        !Channel::Make(masks[2], &info->blue)) {
      return DecodeError(name, "invalid BMP bit masks");
    }
  }

  if (pixel_offset < kFileHeaderSize + header_size || pixel_offset >= size) {
    return DecodeError(name, "invalid BMP pixel data offset " + std::to_string(pixel_offset));
  }
  info->pixel_offset = pixel_offset;

  if (bpp <= 8) {
    // The palette has colors_used entries (0 means all 2^bpp), and cannot extend into the
    // pixel data: some writers set colors_used carelessly.
    int64_t entries = int64_t{1} << bpp;
    if (colors_used != 0 && colors_used < entries) entries = colors_used;
    if (pixel_offset > palette_start) {
      entries = std::min<int64_t>(entries, (pixel_offset - palette_start) / info->palette_entry);
    } else {
      entries = 0;
    }
    if (entries == 0) return DecodeError(name, "BMP palette is missing");
    info->palette = data + palette_start;
    info->palette_size = static_cast<int>(entries);
  }

  info->stride = (info->width * bpp + 31) / 32 * 4;
  // The last row's padding is often left out of the file; only its pixels must be there.
  const int64_t needed = info->stride * (info->height - 1) + (info->width * bpp + 7) / 8;
  const int64_t available = static_cast<int64_t>(size - pixel_offset);
  if (needed > available) {
    return DecodeError(name, "truncated BMP pixel data (need " + std::to_string(needed) + " bytes, have " +
                                 std::to_string(available) + ")");
  }
  return Status::Ok();
}

bool PaletteIsGray(const BmpInfo& info) {
  for (int i = 0; i < info.palette_size; ++i) {
    const uint8_t* entry = info.palette + i * info.palette_entry;  // Stored B, G, R.
    if (entry[0] != entry[1] || entry[1] != entry[2]) return false;
  }
  return true;
}

void DecodeRow(const BmpInfo& info, const uint8_t* in, int channels, uint8_t* out) {
  const int width = static_cast<int>(info.width);
  switch (info.bpp) {
    case 1:
    case 4:
    case 8: {
      const int per_byte = 8 / info.bpp;
      const int mask = (1 << info.bpp) - 1;
      for (int x = 0; x < width; ++x) {
        // Leftmost pixel in the most significant bits.
        const int shift = 8 - info.bpp * (x % per_byte + 1);
        const int index = (in[x / per_byte] >> shift) & mask;
        if (index >= info.palette_size) {
          for (int c = 0; c < channels; ++c) *out++ = 0;
          continue;
        }
        const uint8_t* entry = info.palette + index * info.palette_entry;
        if (channels == 1) {
          *out++ = entry[0];
        } else {
          *out++ = entry[2];
          *out++ = entry[1];
          *out++ = entry[0];
        }
      }
      break;
    }
    case 24:
      for (int x = 0; x < width; ++x, in += 3) {
        *out++ = in[2];
        *out++ = in[1];
        *out++ = in[0];
      }
      break;
    case 16:
    case 32: {
      const int bytes = info.bpp / 8;
      for (int x = 0; x < width; ++x, in += bytes) {
        const uint32_t pixel = bytes == 2 ? ReadU16(in) : ReadU32(in);
        *out++ = info.red.Extract(pixel);
        *out++ = info.green.Extract(pixel);
        *out++ = info.blue.Extract(pixel);
      }
      break;
    }
    default:
      break;  // Rejected by ParseHeaders.
  }
}

}  // namespace

Expected<Image> DecodeBmp(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) return DecodeError(name, "empty file");
  BmpInfo info;
  PCLS_RETURN_IF_ERROR(ParseHeaders(data, size, name, &info));
  const int channels = info.bpp <= 8 && PaletteIsGray(info) ? 1 : 3;
  Image image = image_internal::MakeImage(static_cast<int>(info.width), static_cast<int>(info.height), channels);
  const size_t out_row = static_cast<size_t>(image.width) * channels;
  for (int64_t row = 0; row < info.height; ++row) {
    const int64_t y = info.top_down ? row : info.height - 1 - row;
    DecodeRow(info, data + info.pixel_offset + row * info.stride, channels, image.pixels.data() + y * out_row);
  }
  return image;
}

}  // namespace personcls
