#include "runtime/host/pad_rows.h"

#include <cstdint>
#include <cstring>

namespace personcls::host {
namespace {

// Writes `count` copies of the element at `value` (element_size bytes) to `dst`.
void Fill(uint8_t* dst, int64_t count, int element_size, const uint8_t* value) {
  if (count <= 0) return;
  bool uniform = true;  // all bytes equal (int8 zero point, float 0): one memset
  for (int b = 1; b < element_size; ++b) uniform &= value[b] == value[0];
  if (uniform) {
    std::memset(dst, value[0], static_cast<size_t>(count) * element_size);
    return;
  }
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * element_size, value, element_size);
}

}  // namespace

void pad_rows(const ref::PadGeometry& g, int element_size, const void* pad_value, const void* input, void* output) {
  int out_shape[4];
  for (int d = 0; d < 4; ++d) out_shape[d] = g.before[d] + g.in_shape[d] + g.after[d];
  const auto* value = static_cast<const uint8_t*>(pad_value);
  const auto* in = static_cast<const uint8_t*>(input);
  auto* out = static_cast<uint8_t*>(output);
  const int64_t row_bytes = int64_t{out_shape[3]} * element_size;
  const int64_t in_row_bytes = int64_t{g.in_shape[3]} * element_size;
  for (int a = 0; a < out_shape[0]; ++a)
    for (int b = 0; b < out_shape[1]; ++b)
      for (int c = 0; c < out_shape[2]; ++c, out += row_bytes) {
        const int ia = a - g.before[0], ib = b - g.before[1], ic = c - g.before[2];
        if (ia < 0 || ia >= g.in_shape[0] || ib < 0 || ib >= g.in_shape[1] || ic < 0 || ic >= g.in_shape[2]) {
          Fill(out, out_shape[3], element_size, value);
          continue;
        }
        const int64_t row = (int64_t{ia} * g.in_shape[1] + ib) * g.in_shape[2] + ic;
        Fill(out, g.before[3], element_size, value);
        std::memcpy(out + int64_t{g.before[3]} * element_size, in + row * in_row_bytes, static_cast<size_t>(in_row_bytes));
        Fill(out + int64_t{g.before[3]} * element_size + in_row_bytes, g.after[3], element_size, value);
      }
}

}  // namespace personcls::host
