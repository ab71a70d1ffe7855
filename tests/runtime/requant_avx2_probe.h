// A window onto src/runtime/x86/requant_avx2.h for requant_avx2_test.cc: the probe is
// compiled with -mavx2 (requant_avx2_probe.cc) so that the test itself is not, and the
// test binary still starts on a CPU without AVX2 (the test then skips).
#pragma once

#include <cstdint>

namespace personcls::testing {

// Requantizes acc[0..8) as Requantize8 does, lane j with (multiplier[j], shift[j]) and
// output_offset, into out[0..8) (int32, before the int8 clamp). Returns whether the block
// took the fused-rounding form (RequantBlock8::fused_rounding).
bool RequantizeAvx2Probe(const int32_t multiplier[8], const int32_t shift[8], int32_t output_offset, const int32_t acc[8],
                         int32_t out[8]);

}  // namespace personcls::testing
