// libFuzzer target: arbitrary bytes as a .tflite model. Loading, preparing and (for models
// small enough) invoking must never crash, hang or trip a sanitizer.
#include "fuzz_model_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return FuzzModelBytes(data, size, "fuzz.tflite"); }
