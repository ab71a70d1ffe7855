// libFuzzer target: DecodeJpeg and the DCT-scaled DecodeJpegAtLeast on arbitrary bytes;
// results checked by CheckDecodeResult. The scaled decode's minimum size comes from the
// last input byte (a JPEG's EOI, which the decoder never reads), so the fuzzer reaches
// every scale without the image data changing.
#include <cstddef>
#include <cstdint>

#include "fuzz_image_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  personcls::Expected<personcls::Image> image = personcls::DecodeJpeg(data, size, "fuzz");
  CheckDecodeResult(image);
  if (size == 0) return 0;
  const int min_side = 1 + data[size - 1] % 160;
  personcls::Expected<personcls::Image> scaled = personcls::DecodeJpegAtLeast(data, size, "fuzz", min_side, min_side);
  CheckDecodeResult(scaled);
  if (image.ok() && scaled.ok()) {
    // The scaled size is ceil(full / denom) for one denom in {1, 2, 4, 8}, and at least
    // the minimum unless it is the full size.
    bool found = false;
    for (int denom : {1, 2, 4, 8}) {
      found |= scaled->width == (image->width + denom - 1) / denom && scaled->height == (image->height + denom - 1) / denom;
    }
    const bool full = scaled->width == image->width && scaled->height == image->height;
    if (!found || (!full && (scaled->width < min_side || scaled->height < min_side)) || scaled->channels != image->channels) {
      __builtin_trap();
    }
  }
  return 0;
}
