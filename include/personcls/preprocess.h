// From a decoded image to a model's input tensor.
//
// Steps: stretch-resize (bilinear, half-pixel centres; see image.h) to the input's H x W,
// convert to the input's channel count (RGB, or gray by the integer formula
// (299 R + 587 G + 114 B + 500) / 1000), then map each pixel byte p to a tensor value:
//   * int8 input, default: q = p - 128 (TFLite Micro's and SSCMA-Micro's camera
//     convention; equals quantizing p/255 for inputs with scale 1/255 and zero point -128).
//   * float32 input, default: x = p / 255.
//   * with an explicit normalization (model metadata "normalization" = "mean=M,scale=S",
//     or CLI --input-mean M --input-scale S): x = (p - M) * S, and for int8 inputs q = round(x / s) + z with the input
//     tensor's scale s and zero point z, clamped to [-128, 127].
#pragma once

#include <optional>

#include "personcls/graph.h"
#include "personcls/image.h"
#include "personcls/status.h"

namespace personcls {

struct InputNormalization {
  float mean = 0.0f;
  float scale = 1.0f / 255.0f;
};

// A usable mapping: mean finite, scale finite and positive. NaN or inf would turn every
// input into NaN (and, for int8 inputs, reach an undefined float-to-int8 cast).
Status CheckInputNormalization(const InputNormalization& n);

// The model's own input mapping: metadata "normalization" = "mean=M,scale=S" (written by
// personcls exporters), or nullopt when absent. Malformed text, or values that
// CheckInputNormalization refuses, are an error.
Expected<std::optional<InputNormalization>> ReadNormalizationMetadata(const Graph& graph);

// Fills `data` (desc.num_bytes() bytes) from `image`. desc must be NHWC [1,H,W,1|3] of
// int8 or float32; anything else is an error naming the shape, as is a normalization that
// CheckInputNormalization refuses.
Status FillInputTensor(const Image& image, const TensorDesc& desc, void* data,
                       const std::optional<InputNormalization>& normalization = std::nullopt);

}  // namespace personcls
