// Helpers shared by the image decoders in src/data/. Not part of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "personcls/image.h"
#include "personcls/status.h"

namespace personcls::image_internal {

// "name: message", the one-line form every decoder error takes.
inline Status DecodeError(const std::string& name, const std::string& message) {
  return Status::Error(name + ": " + message);
}

// Checks decoded dimensions before anything is allocated for them: both positive and
// width*height within kMaxImagePixels. Computed in int64 so crafted headers cannot overflow.
inline Status CheckDimensions(int64_t width, int64_t height, const std::string& name) {
  if (width <= 0 || height <= 0) {
    return DecodeError(name, "invalid image size " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (width > kMaxImagePixels || height > kMaxImagePixels || width * height > kMaxImagePixels) {
    return DecodeError(name, "image too large: " + std::to_string(width) + "x" + std::to_string(height) +
                                 " (limit " + std::to_string(kMaxImagePixels) + " pixels)");
  }
  return Status::Ok();
}

// An image of the given (already checked) size with zeroed pixels.
inline Image MakeImage(int width, int height, int channels) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * static_cast<size_t>(channels), 0);
  return image;
}

}  // namespace personcls::image_internal
