// libFuzzer target: DecodePng on arbitrary bytes. A decoded image is also pushed through the
// preprocessing ops, and its shape is checked, so a decoder that returns an inconsistent
// Image is caught here rather than later in a model's input copy.
//
// Every PNG chunk carries a CRC, which a mutating fuzzer essentially never gets right, so
// nearly every input would stop at the first CRC check. The harness therefore rewrites
// the CRC of each complete chunk in a copy of the input before decoding (the decoder itself
// is unchanged); inputs with bad CRCs are still covered, since a chunk cut short keeps
// its bytes as given.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "personcls/image.h"

namespace {

uint32_t Crc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void FixChunkCrcs(std::vector<uint8_t>* png) {
  uint8_t* p = png->data();
  const size_t size = png->size();
  size_t pos = 8;  // After the signature.
  while (pos + 12 <= size) {
    const uint32_t length = (uint32_t{p[pos]} << 24) | (uint32_t{p[pos + 1]} << 16) | (uint32_t{p[pos + 2]} << 8) | p[pos + 3];
    if (length > size - pos - 12) break;
    const uint32_t crc = Crc32(p + pos + 4, 4 + size_t{length});
    uint8_t* out = p + pos + 8 + length;
    out[0] = static_cast<uint8_t>(crc >> 24);
    out[1] = static_cast<uint8_t>(crc >> 16);
    out[2] = static_cast<uint8_t>(crc >> 8);
    out[3] = static_cast<uint8_t>(crc);
    pos += 12 + size_t{length};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  if (size >= 8) FixChunkCrcs(&bytes);
  personcls::Expected<personcls::Image> image = personcls::DecodePng(bytes.data(), bytes.size(), "fuzz");
  if (!image.ok()) {
    if (image.status().message().rfind("fuzz: ", 0) != 0) __builtin_trap();
    return 0;
  }
  const personcls::Image& decoded = *image;
  if (decoded.width <= 0 || decoded.height <= 0 || (decoded.channels != 1 && decoded.channels != 3) ||
      int64_t{decoded.width} * decoded.height > personcls::kMaxImagePixels ||
      decoded.pixels.size() != static_cast<size_t>(decoded.width) * decoded.height * decoded.channels) {
    __builtin_trap();
  }
  // Resize first: converting a 64 Mpixel image would only cost time.
  const personcls::Image rgb = personcls::ToRgb(personcls::ResizeBilinear(decoded, 96, 96));
  const personcls::Image gray = personcls::ToGray(rgb);
  if (rgb.pixels.size() != 96 * 96 * 3 || gray.pixels.size() != 96 * 96) __builtin_trap();
  return 0;
}
