// libFuzzer target: DecodePng on arbitrary bytes; results checked by CheckDecodeResult.
//
// Every PNG chunk carries a CRC, which a mutating fuzzer essentially never gets right, so
// nearly every input would stop at the first CRC check. The harness therefore rewrites
// the CRC of each complete chunk in a copy of the input before decoding (the decoder itself
// is unchanged); inputs with bad CRCs are still covered, since a chunk cut short keeps
// its bytes as given.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_image_check.h"

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
  CheckDecodeResult(image);
  return 0;
}
