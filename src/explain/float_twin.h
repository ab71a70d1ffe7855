// The float twin of a quantized graph: the same topology with every int8 weight and int32
// bias dequantized into float32, every int8 activation made float32, and QUANTIZE /
// DEQUANTIZE ops dropped (their output becomes an alias of their input). Explanations of
// int8 models (Grad-CAM needs gradients, which an integer graph does not have) run on it.
//
// What the twin is not: bit-exact. It computes what the int8 model approximates, without
// activation rounding or the clamping that an int8 output range may add beyond the fused
// activation; on the shared VWW models the twin's class scores stay close to the int8
// ones, but the two can disagree on images near the decision boundary.
#pragma once

#include <memory>
#include <optional>

#include "personcls/graph.h"
#include "personcls/preprocess.h"
#include "personcls/status.h"

namespace personcls::explain {

struct FloatTwin {
  std::shared_ptr<const Graph> graph;  // float32 everywhere (shape operands stay int32)
  // The pixel -> float mapping that reproduces what the original model's input saw: for an
  // int8 input with scale s and zero point z, fed q = p - 128 by default, x = s (p - 128 - z);
  // nullopt when the original input was float (its own default applies).
  std::optional<InputNormalization> input_normalization;
};

// Returns the graph itself (shared, unchanged) when it has no quantized tensor.
// Errors: a quantized tensor type the twin cannot express (e.g. int16 activations).
Expected<FloatTwin> MakeFloatTwin(std::shared_ptr<const Graph> graph);

}  // namespace personcls::explain
