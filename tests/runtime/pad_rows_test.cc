// host::pad_rows (the fast PAD kernel) against ref::pad, byte for byte, on random shapes
// of rank 1..4 with random padding on every dimension, for 1-byte and 4-byte elements.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "runtime/host/pad_rows.h"
#include "runtime/ref/ref_kernels.h"
#include "test_util.h"

namespace personcls {
namespace {

TEST(PadRowsTest, MatchesReferenceOnRandomShapes) {
  const uint32_t seed = ::personcls::testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dim(1, 7), pad(0, 3), byte(0, 255);
  for (int round = 0; round < 300; ++round) {
    ref::PadGeometry g;
    int64_t in_n = 1, out_n = 1;
    const int rank = 1 + round % 4;
    for (int d = 0; d < 4; ++d) {
      const bool used = d >= 4 - rank;  // ranks below 4 are left-extended with 1s
      g.in_shape[d] = used ? dim(rng) : 1;
      g.before[d] = used ? pad(rng) : 0;
      g.after[d] = used ? pad(rng) : 0;
      in_n *= g.in_shape[d];
      out_n *= g.before[d] + g.in_shape[d] + g.after[d];
    }
    const int element = round % 2 ? 4 : 1;
    std::vector<uint8_t> in(in_n * element), want(out_n * element), got(out_n * element, 0xA5);
    for (auto& b : in) b = static_cast<uint8_t>(byte(rng));
    uint8_t value[4] = {static_cast<uint8_t>(byte(rng)), 0, 0, 0};
    if (element == 4 && round % 3 == 0) value[1] = value[2] = value[3] = 7;  // not one repeated byte
    ref::pad(g, element, value, in.data(), want.data());
    host::pad_rows(g, element, value, in.data(), got.data());
    ASSERT_EQ(got, want) << "round " << round << " rank " << rank << " element " << element;
  }
}

}  // namespace
}  // namespace personcls
