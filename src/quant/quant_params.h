// Quantization parameters as TensorFlow Lite's converter chooses them: int8 asymmetric
// activations with a nudged zero point, int8 symmetric weights (per channel or per
// tensor), int32 biases. Pure functions of float data; no graph knowledge.
#pragma once

#include <cstdint>
#include <vector>

namespace personcls::quant {

struct AffineQuant {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// int8 (-128..127) parameters for a tensor whose values lie in [rmin, rmax]. The range is
// first widened to contain 0 (so ReLU's 0 and PAD's 0 are exact), scale = (rmax - rmin) /
// 255, and the zero point is rounded to the nearest integer in [-128, 127] ("nudging"), from
// whichever end (min or max) gives the smaller rounding error, as TFLite's converter does.
// A range of width 0 (a tensor that is always 0) gets scale 1/255.
AffineQuant ChooseActivationQuant(float rmin, float rmax);

struct SymmetricWeights {
  std::vector<int8_t> values;   // same layout as the float input
  std::vector<float> scales;    // one per channel (or one)
};

// Symmetric int8 quantization of a tensor of `shape` along `axis` (per channel), or of the
// whole tensor when axis < 0: scale = max|w| / 127 (1 for an all-zero channel), q =
// round(w / scale), which lies in -127..127.
SymmetricWeights QuantizeSymmetric(const float* w, const std::vector<int32_t>& shape, int axis);

// int32 bias: q = round(b / (input_scale * weight_scale[c])) saturated to int32, with the
// scale product taken in float as TFLite stores it. `scales` gets those bias scales.
std::vector<int32_t> QuantizeBias(const float* b, int channels, float input_scale, const std::vector<float>& weight_scales,
                                  std::vector<float>* scales);

}  // namespace personcls::quant
