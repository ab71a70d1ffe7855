#include "person_detector.h"

#include <cmath>

#include "person_model_config.h"

bool PersonDetector::Init() {
  if (!interpreter_.Init(PERSON_MODEL_DATA, PERSON_MODEL_BYTES, arena_, kArenaBytes, prepared_, kPreparedBytes)) return false;
  const personcls::MicroTensor in = interpreter_.input(0);
  const personcls::MicroTensor out = interpreter_.output(0);
  // Checked once, so that Classify() needs no checks: an int8 NHWC RGB input and an int8
  // output of at least 2 classes (this example's models).
  if (in.dtype != personcls::DType::kInt8 || in.rank != 4 || in.dims[0] != 1 || in.dims[3] != 3 ||
      out.dtype != personcls::DType::kInt8 || out.bytes < 2)
    return false;
  height_ = static_cast<int>(in.dims[1]);
  width_ = static_cast<int>(in.dims[2]);
  return true;
}

PersonDetector::Decision PersonDetector::Classify(const uint8_t* frame) {
  const personcls::MicroTensor in = interpreter_.input(0);
  auto* q = static_cast<int8_t*>(in.data);
  const size_t n = in.bytes;
  if (in.scale == 1.0f / 255 && in.zero_point == -128) {
    // Pixels p / 255 quantized with scale 1/255 and zero point -128: exactly p - 128.
    for (size_t i = 0; i < n; ++i) q[i] = static_cast<int8_t>(frame[i] - 128);
  } else {
    for (size_t i = 0; i < n; ++i) {
      const long v = std::lround(frame[i] / 255.0f / in.scale) + in.zero_point;
      q[i] = static_cast<int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
  }
  interpreter_.Invoke();
  const auto* scores = static_cast<const int8_t*>(interpreter_.output(0).data);
  Decision d;
  d.person = scores[1] > scores[0];
  d.score = scores[1] + 128;
  d.label = PERSON_MODEL_LABELS[d.person ? 1 : 0];
  return d;
}
