// Lane masks shared by the float AVX2 kernels (masked loads and stores of channel tails).
// Only included by the AVX2 translation units in src/runtime/x86/.
#pragma once

#include <immintrin.h>

namespace personcls::x86 {

// Mask of the first `count` (0..8) 32-bit lanes of a vector.
inline __m256i FirstLanes(int count) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane);
}

}  // namespace personcls::x86
