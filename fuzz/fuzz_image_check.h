// Shared body of the image decoder fuzz targets: a decode result must be either an error
// naming the input ("fuzz: ...") or a consistent Image that survives the preprocessing ops,
// so a decoder returning an inconsistent Image is caught here rather than later in a
// model's input copy.
#pragma once

#include <cstdint>

#include "personcls/image.h"

inline void CheckDecodeResult(const personcls::Expected<personcls::Image>& image) {
  if (!image.ok()) {
    if (image.status().message().rfind("fuzz: ", 0) != 0) __builtin_trap();
    return;
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
}
