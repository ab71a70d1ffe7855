// libFuzzer target: DecodeBmp on arbitrary bytes. A decoded image is also pushed through the
// preprocessing ops, and its shape is checked, so a decoder that returns an inconsistent
// Image is caught here rather than later in a model's input copy.
#include <cstddef>
#include <cstdint>

#include "personcls/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  personcls::Expected<personcls::Image> image = personcls::DecodeBmp(data, size, "fuzz");
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
