// The default model compiled into personcls: an int8 MobileNetV2-Rep distilled by personcls
// itself from the shared VWW teacher models, quantized by personcls and exported with
// `personcls export --format c` into src/default_model/default_model.{h,cc} by
// scripts/make_default_model.sh (docs/default-model.md: recipe, data, cross-validated
// accuracy). `classify`, `eval`, `info`, `bench` and `explain` use it when no --model is given.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls {

// What a user should know about the embedded model. Static strings.
struct DefaultModelCard {
  const char* name;       // e.g. "personcls default: mbv2-rep-0.35, int8"
  const char* accuracy;   // the honest estimate and how it was measured
  const char* made;       // how it was made (teachers, data, recipe)
  const char* reproduce;  // the command that rebuilds it
};
const DefaultModelCard& DefaultModelInfo();

// The .tflite flatbuffer (static storage, 16-byte aligned).
std::span<const uint8_t> DefaultModelTflite();

// The parsed model; the Graph keeps its own copy of the bytes. Fails only if the embedded
// bytes are not a valid model (a build error).
Expected<std::shared_ptr<const Graph>> LoadDefaultModel();

}  // namespace personcls
