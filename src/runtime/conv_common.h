// Prepare-time helpers shared by CONV_2D, DEPTHWISE_CONV_2D and the pools.
#pragma once

#include <cstdint>
#include <vector>

#include <memory>

#include "runtime/fast_kernels.h"
#include "runtime/kernel.h"
#include "runtime/kernel_params.h"

namespace personcls {

// Fills the spatial part of `g` from an NHWC input, kernel size and options, and checks it
// against the declared NHWC output shape. `folded`: padding of a PAD folded into the op
// (VALID ops only), applied around the input.
Status PrepareSpatialGeometry(const TensorDesc& input, const TensorDesc& output, int k_h, int k_w, const OpOptions& o,
                              ConvGeometry& g, const ExplicitPadding* folded = nullptr);

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

// int8 kernels accumulate in int32; refuse dot products long enough to overflow it.
constexpr int64_t kMaxS8AccumulationDepth = int64_t{1} << 15;
Status CheckS8AccumulationDepth(int64_t depth);

// Validates a bias tensor (optional): constant, 1-D with `channels` elements, of `type`.
Status CheckBias(const TensorDesc* bias, int channels, DType type);

// The kernels of one conv-like op (CONV_2D or DEPTHWISE_CONV_2D): same signatures, so
// one base class prepares and dispatches both.
struct ConvKernelFunctions {
  void (*s8_ref)(const ConvGeometry&, const S8Requant&, const int8_t*, const int8_t*, const int32_t*, int8_t*);
  void (*f32_ref)(const ConvGeometry&, F32Clamp, const float*, const float*, const float*, float*);
  std::unique_ptr<FastKernel> (*s8_fast)(const ConvGeometry&, const S8Requant&, const int8_t*, const int32_t*, int max_threads);
  std::unique_ptr<FastKernel> (*f32_fast)(const ConvGeometry&, F32Clamp, const float*, const float*, int max_threads);
  const char* s8_ref_name;
  const char* f32_ref_name;
};

// Base of CONV_2D and DEPTHWISE_CONV_2D. Subclasses fill g_ and macs_ from the shapes in
// their Prepare, then call PrepareArithmetic for types, requantization and fast kernels.
class ConvLikeKernel : public Kernel {
 public:
  explicit ConvLikeKernel(const ConvKernelFunctions& fns) : fns_(fns) {}
  void Eval(const KernelBuffers& b) override;
  size_t scratch_bytes() const override { return fast_ ? fast_->scratch_bytes() : 0; }
  size_t persistent_bytes() const override { return quant_.multiplier.size() * 8 + (fast_ ? fast_->persistent_bytes() : 0); }
  int64_t macs() const override { return macs_; }
  std::string name() const override;

 protected:
  Status PrepareArithmetic(const KernelContext& ctx, const TensorDesc& filter, const TensorDesc* bias);

  ConvGeometry g_;
  int64_t macs_ = 0;

 private:
  const ConvKernelFunctions& fns_;
  DType dtype_ = DType::kFloat32;
  S8ConvQuant quant_;
  F32Clamp clamp_{0, 0};
  std::unique_ptr<FastKernel> fast_;
};

}  // namespace personcls
