// Factories of the AVX2/FMA kernels in src/runtime/x86/. Call them only when
// CpuHasAvx2Fma() is true: they live in translation units compiled with -mavx2 -mfma.
// Each returns nullptr when it does not cover the geometry or parameters (the op then
// runs its reference kernel).
#pragma once

#include <cstdint>
#include <memory>

#include "runtime/fast_kernels.h"
#include "runtime/kernel_params.h"

namespace personcls::x86 {

std::unique_ptr<FastKernel> MakeS8Conv2dAvx2(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias,
                                             int max_threads);
std::unique_ptr<FastKernel> MakeF32Conv2dAvx2(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias,
                                              int max_threads);
// 3x3, stride 1, dilation 1, at least 8 input and output channels: Winograd F(2x2, 3x3).
bool WinogradF32Fits(const ConvGeometry& g);
std::unique_ptr<FastKernel> MakeF32Conv2d3x3s1WinogradAvx2(const ConvGeometry& g, F32Clamp clamp, const float* filter,
                                                           const float* bias, int max_threads);
// 3x3, stride 1, dilation 1, 8 to 1024 input channels, at least 8 output channels:
// Winograd F(2x2, 3x3) in exact integer arithmetic.
bool WinogradS8Fits(const ConvGeometry& g, const S8Requant& q);
std::unique_ptr<FastKernel> MakeS8Conv2d3x3s1WinogradAvx2(const ConvGeometry& g, const S8Requant& q, const int8_t* filter,
                                                          const int32_t* bias, int max_threads);
std::unique_ptr<FastKernel> MakeS8DwConv2dAvx2(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias,
                                               int max_threads);
std::unique_ptr<FastKernel> MakeF32DwConv2dAvx2(const ConvGeometry& g, F32Clamp clamp, const float* filter, const float* bias,
                                                int max_threads);
// AVERAGE_POOL_2D (pool2d_avx2.cc); int8 windows of fewer than 2^16 taps.
std::unique_ptr<FastKernel> MakeS8AvgPool2dAvx2(const ConvGeometry& g, int32_t act_min, int32_t act_max);
std::unique_ptr<FastKernel> MakeF32AvgPool2dAvx2(const ConvGeometry& g, F32Clamp clamp);

}  // namespace personcls::x86
