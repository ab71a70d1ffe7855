// Kernels for the Arm DSP extension (Armv7E-M / Armv8-M Mainline: Cortex-M4, M7, M33).
// Selected at build time by runtime/mcu_kernels.cc; each Select* has the contract of the
// corresponding SelectMcu* there. Bit-exact with the reference kernels (mcu/kernel_tests).
#pragma once

#include <cstdint>

#include "runtime/mcu_kernels.h"

namespace personcls::arm_dsp {

bool SelectS8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, PreparedAllocator& a,
                    McuS8Conv* out);
bool SelectS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, PreparedAllocator& a,
                      McuS8Conv* out);
bool SelectS8FullyConnected(int batch, int depth, int units, const S8Requant& q, const int8_t* weights, const int32_t* bias,
                            PreparedAllocator& a, McuS8FullyConnected* out);

// Whether the one-instruction requantization (dsp_requant.h, "fast form") is exact for
// this op: every shift <= -1 and |accumulator| < 2^30 for any input, given the depth, the
// largest |input + offset| and |weight + offset| and the biases.
bool FastRequantValid(const S8Requant& q, int channels, int64_t depth, int32_t input_abs_max, int32_t weight_abs_max,
                      const int32_t* bias);

// AVERAGE_POOL_2D / MAX_POOL_2D int8 (s8_pool2d_dsp.cc).
bool SelectS8AvgPool2d(const ConvGeometry& g, McuS8Pool* out);
bool SelectS8MaxPool2d(const ConvGeometry& g, McuS8Pool* out);

}  // namespace personcls::arm_dsp
