// Kernels for the Arm M-profile Vector Extension (MVE/Helium, Armv8.1-M: Cortex-M55, M85).
// Selected at build time by runtime/mcu_kernels.cc; each Select* has the contract of the
// corresponding SelectMcu* there. Bit-exact with the reference kernels (mcu/kernel_tests).
#pragma once

#include "runtime/mcu_kernels.h"

namespace personcls::arm_mve {

bool SelectS8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, PreparedAllocator& a,
                    McuS8Conv* out);
bool SelectS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias, PreparedAllocator& a,
                      McuS8Conv* out);
bool SelectS8FullyConnected(int batch, int depth, int units, const S8Requant& q, const int8_t* weights, const int32_t* bias,
                            PreparedAllocator& a, McuS8FullyConnected* out);

// AVERAGE_POOL_2D / MAX_POOL_2D int8 (s8_pool2d_mve.cc).
bool SelectS8AvgPool2d(const ConvGeometry& g, McuS8Pool* out);
bool SelectS8MaxPool2d(const ConvGeometry& g, McuS8Pool* out);

}  // namespace personcls::arm_mve
