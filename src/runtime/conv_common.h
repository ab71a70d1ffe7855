// Prepare-time helpers shared by CONV_2D, DEPTHWISE_CONV_2D and the pools, and the
// prepare/eval pair both convolutions use.
#pragma once

#include <cstdint>

#include "runtime/fast_kernels.h"
#include "runtime/kernel.h"
#include "runtime/kernel_params.h"
#include "runtime/mcu_kernels.h"

namespace personcls {

// Fills the spatial part of `g` from an NHWC input, kernel size and options, and checks it
// against the declared NHWC output shape. `folded`: padding of a PAD folded into the op
// (VALID ops only), applied around the input.
bool PrepareSpatialGeometry(const TensorView& input, const TensorView& output, int k_h, int k_w, const OpOptions& o,
                            ConvGeometry& g, Diag& d, const ExplicitPadding* folded = nullptr);

// Per-channel (or per-tensor) int8 requantization for a conv-like op:
// multiplier[c] = input_scale * filter_scale[c] / output_scale (in double), plus the
// clamp range of the fused activation. The multiplier/shift arrays are allocated from
// ctx's prepared memory and live as long as it.
bool PrepareS8ConvQuant(PrepareContext& ctx, const TensorView& input, const TensorView& filter, const TensorView& output,
                        int out_channels, Activation act, S8Requant& q, Diag& d);

// int8 kernels accumulate in int32; refuse dot products long enough to overflow it.
constexpr int64_t kMaxS8AccumulationDepth = int64_t{1} << 15;
bool CheckS8AccumulationDepth(int64_t depth, Diag& d);

// Validates a bias tensor (optional): constant, 1-D with `channels` elements, of `type`.
bool CheckBias(const TensorView* bias, int channels, DType type, Diag& d);

// The kernels of one conv-like op (CONV_2D or DEPTHWISE_CONV_2D): same signatures, so
// one prepare/eval pair serves both.
struct ConvKernelFunctions {
  void (*s8_ref)(const ConvGeometry&, const S8Requant&, const int8_t*, const int8_t*, const int32_t*, int8_t*);
  void (*f32_ref)(const ConvGeometry&, F32Clamp, const float*, const float*, const float*, float*);
  FastKernelChoice (FastKernelFactory::*s8_fast)(const ConvGeometry&, const S8Requant&, const int8_t*, const int32_t*);
  FastKernelChoice (FastKernelFactory::*f32_fast)(const ConvGeometry&, F32Clamp, const float*, const float*);
  bool (*s8_mcu)(const ConvGeometry&, const S8Requant&, const int8_t*, const int32_t*, PreparedAllocator&, McuS8Conv*);
  const char* s8_ref_name;
  const char* f32_ref_name;
};

// Prepared parameters of CONV_2D / DEPTHWISE_CONV_2D.
struct ConvOpData {
  const ConvKernelFunctions* fns = nullptr;
  ConvGeometry g;
  DType dtype = DType::kFloat32;
  S8Requant q;
  F32Clamp clamp{0, 0};
  FastKernel* fast = nullptr;  // host SIMD kernel (owned by the factory), or nullptr
  McuS8Conv mcu;               // MCU kernel, used when mcu.run is set
};

// After the op's own shape checks filled `g` and ctx.macs: types, requantization and the
// kernel choice (host fast, MCU, or reference).
bool PrepareConvArithmetic(PrepareContext& ctx, ConvOpData& data, const TensorView& filter, const TensorView* bias, Diag& d);
void EvalConv(const void* op_data, const EvalContext& e);

}  // namespace personcls
