// Prepare-time helpers shared by CONV_2D, DEPTHWISE_CONV_2D and the pools.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/kernel_params.h"

namespace personcls {

// Fills the spatial part of `g` from an NHWC input, kernel size and options, and checks it
// against the declared NHWC output shape.
Status PrepareSpatialGeometry(const TensorDesc& input, const TensorDesc& output, int k_h, int k_w, const OpOptions& o,
                              ConvGeometry& g);

// Per-channel (or per-tensor) int8 requantization for a conv-like op:
// multiplier[c] = input_scale * filter_scale[c] / output_scale (in double), plus the
// clamp range of the fused activation. Owns the multiplier/shift arrays `q` points at.
struct S8ConvQuant {
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;
  S8Requant requant;  // points into the vectors above; valid while this object lives
};
Status PrepareS8ConvQuant(const TensorDesc& input, const TensorDesc& filter, const TensorDesc& output, int out_channels,
                          Activation act, S8ConvQuant& out);

// Validates a bias tensor (optional): constant, 1-D with `channels` elements, of `type`.
Status CheckBias(const TensorDesc* bias, int channels, DType type);

}  // namespace personcls
