// The embedded default model's card and loader. The bytes are generated
// (default_model.cc, `personcls export --format c`); the card's figures come from
// scripts/default_model/cv.sh and are explained in docs/default-model.md.
#include <memory>
#include <vector>

#include "default_model/default_model.h"
#include "personcls/default_model.h"
#include "personcls/model.h"

namespace personcls {

const DefaultModelCard& DefaultModelInfo() {
  static const DefaultModelCard card{
      "personcls default: MobileNetV2-0.5-Rep, int8, 96x96 RGB, {Not a person, Person}",
      "86.0 % int8 / 85.4 % float32 top-1 on the 500 vww01-dev images, none of which it was trained on (MLPerf Tiny int8 "
      "scores 85.6 %, TinyMaix int8 86.8 % on the same images); see docs/default-model.md",
      "distilled by personcls from the MLPerf Tiny and TinyMaix float VWW models (mean of their probabilities) on 25,966 "
      "photos of ../shared/data/pool and pool2 (per-source cap 1000, COCO sources x3, their person labels as hard labels; no "
      "vww01-dev image), function matching, 24 epochs, widened from SSCMA's CIFAR-10 MobileNetV2-0.35-Rep backbone; int8 by "
      "personcls quantize (min/max calibration on 100 pool2 COCO photos)",
      "scripts/make_default_model.sh",
  };
  return card;
}

std::span<const uint8_t> DefaultModelTflite() { return {pcls_default_model_tflite, pcls_default_model_tflite_len}; }

Expected<std::shared_ptr<const Graph>> LoadDefaultModel() {
  const auto bytes = DefaultModelTflite();
  return LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(bytes.begin(), bytes.end()), "embedded default model");
}

}  // namespace personcls
