// Reading the PyTorch twin's golden files (docs/pytorch-twin.md) in tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace personcls::testing {

inline std::string TwinPath(const std::string& name) { return std::string(PERSONCLS_SOURCE_DIR) + "/tests/golden/twin/" + name; }

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// docs/pytorch-twin.md, "Synthetic tensors": tensors stored as [kind, stream, e] recipes.
inline std::vector<float> Synthesize(int64_t kind, int64_t stream, int64_t e, size_t count) {
  std::vector<float> v(count);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t r = SplitMix64((static_cast<uint64_t>(stream) << 32) + i) >> 40;
    v[i] = kind == 0 ? static_cast<float>(r) * 0x1p-24f
                     : static_cast<float>(static_cast<int32_t>(r) - 8388608) * std::ldexp(1.0f, static_cast<int>(e) - 23);
  }
  return v;
}

}  // namespace personcls::testing
