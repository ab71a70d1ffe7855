// libFuzzer target: DecodePnm on arbitrary bytes; results checked by CheckDecodeResult.
#include <cstddef>
#include <cstdint>

#include "fuzz_image_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  personcls::Expected<personcls::Image> image = personcls::DecodePnm(data, size, "fuzz");
  CheckDecodeResult(image);
  return 0;
}
