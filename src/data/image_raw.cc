// Raw MLPerf Tiny input tensors (.bin): 96x96x3 uint8 RGB, HWC, no header.
#include <cstring>
#include <string>

#include "data/image_internal.h"
#include "personcls/image.h"

namespace personcls {
namespace {

constexpr int kRawSide = 96;
constexpr int kRawChannels = 3;
constexpr size_t kRawBytes = size_t{kRawSide} * kRawSide * kRawChannels;  // 27,648

}  // namespace

Expected<Image> DecodeRawBin(const uint8_t* data, size_t size, const std::string& name) {
  // Without a header the size is the only check there is, so it must be exact.
  if (size != kRawBytes) {
    return image_internal::DecodeError(name, "raw .bin must be exactly " + std::to_string(kRawBytes) +
                                                 " bytes (96x96x3 RGB), got " + std::to_string(size));
  }
  Image image;
  image.width = kRawSide;
  image.height = kRawSide;
  image.channels = kRawChannels;
  image.pixels.assign(data, data + size);
  return image;
}

}  // namespace personcls
