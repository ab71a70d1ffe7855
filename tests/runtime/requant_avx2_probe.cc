#include "runtime/requant_avx2_probe.h"

#include <immintrin.h>

#include "runtime/x86/requant_avx2.h"

namespace personcls::testing {

bool RequantizeAvx2Probe(const int32_t multiplier[8], const int32_t shift[8], int32_t output_offset, const int32_t acc[8],
                         int32_t out[8]) {
  S8Requant q{};
  q.multiplier = multiplier;
  q.shift = shift;
  q.per_tensor = false;
  q.output_offset = output_offset;
  q.act_min = -128;
  q.act_max = 127;
  x86::RequantBlock8 block;
  x86::FillRequantBlocks(q, 8, 8, &block);
  const __m256i r = x86::Requantize8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc)), x86::LoadRequant8(block), _mm256_set1_epi32(output_offset));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), r);
  return block.fused_rounding;
}

}  // namespace personcls::testing
