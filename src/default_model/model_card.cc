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
      "personcls default: MobileNetV2-0.35-Rep, int8, 96x96 RGB, {Not a person, Person}",
      "80.2 % float32 / 80.0 % int8 top-1, 5-fold cross-validation of the same recipe on vww01-dev (the MLPerf Tiny int8 "
      "reference scores 85.6 % on the same folds): still below the teachers, see docs/default-model.md",
      "distilled by personcls from the MLPerf Tiny and TinyMaix float VWW models (mean of their probabilities) on the 500 "
      "vww01-dev images plus ../shared/data/pool photos (at most 600 per source), function matching, 240 epochs, starting from "
      "SSCMA's CIFAR-10 MobileNetV2-0.35-Rep backbone; int8 by personcls quantize (min/max calibration on the first 100 "
      "vww01-dev images)",
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
