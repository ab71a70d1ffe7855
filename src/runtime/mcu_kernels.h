// Kernels for the microcontroller ISA the core is compiled for, selected at build time:
// Armv7E-M / Armv8-M DSP extension (Cortex-M4/M7/M33: SMLAD dual 16-bit MACs,
// src/runtime/arm_dsp/) or Armv8.1-M MVE (Cortex-M55/M85 Helium, src/runtime/arm_mve/).
// Elsewhere (the PC, an ESP32, a Cortex-M0) every Select* returns false and the reference
// kernels run.
//
// A Select* function looks at one op's prepared geometry and requantization and either
// fills `out` (the function, any extra prepared parameters it allocated from `a`, the
// scratch it needs in the arena, its name) or returns false when it does not cover the
// case. Every kernel is bit-exact with the reference kernel of its op (tests/mcu/).
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernel_params.h"
#include "runtime/prepared_allocator.h"

namespace personcls {

// CONV_2D and DEPTHWISE_CONV_2D: the reference kernel's arguments plus scratch and extra.
using S8ConvFn = void (*)(const ConvGeometry& g, const S8Requant& q, const int8_t* input, const int8_t* filter,
                          const int32_t* bias, int8_t* output, void* scratch, const void* extra);
struct McuS8Conv {
  S8ConvFn run = nullptr;
  const void* extra = nullptr;  // in prepared memory, or nullptr
  size_t scratch_bytes = 0;
  const char* name = "";
};
bool SelectMcuS8Conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias,
                       PreparedAllocator& a, McuS8Conv* out);
bool SelectMcuS8DwConv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* filter, const int32_t* bias,
                         PreparedAllocator& a, McuS8Conv* out);

// FULLY_CONNECTED: input [batch, depth], weights [units, depth].
using S8FullyConnectedFn = void (*)(int batch, int depth, int units, const S8Requant& q, const int8_t* input,
                                    const int8_t* weights, const int32_t* bias, int8_t* output, const void* extra);
struct McuS8FullyConnected {
  S8FullyConnectedFn run = nullptr;
  const void* extra = nullptr;
  const char* name = "";
};
bool SelectMcuS8FullyConnected(int batch, int depth, int units, const S8Requant& q, const int8_t* weights,
                               const int32_t* bias, PreparedAllocator& a, McuS8FullyConnected* out);

// AVERAGE_POOL_2D / MAX_POOL_2D int8 (input and output share their quantization, so the
// kernel only averages or takes the maximum, then clamps to [act_min, act_max]).
using S8PoolFn = void (*)(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output);
struct McuS8Pool {
  S8PoolFn run = nullptr;
  const char* name = "";
};
bool SelectMcuS8AvgPool2d(const ConvGeometry& g, McuS8Pool* out);
bool SelectMcuS8MaxPool2d(const ConvGeometry& g, McuS8Pool* out);

// Which MCU kernel family this build has: "arm_dsp", "arm_mve" or "" (none).
const char* McuKernelFamily();

}  // namespace personcls
