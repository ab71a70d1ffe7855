#include <cstring>

#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {

void pad(const PadGeometry& g, int element_size, const void* pad_value, const void* input, void* output) {
  int out_shape[4];
  for (int d = 0; d < 4; ++d) out_shape[d] = g.before[d] + g.in_shape[d] + g.after[d];
  const auto* in = static_cast<const uint8_t*>(input);
  auto* out = static_cast<uint8_t*>(output);
  int64_t o = 0;
  for (int a = 0; a < out_shape[0]; ++a)
    for (int b = 0; b < out_shape[1]; ++b)
      for (int c = 0; c < out_shape[2]; ++c)
        for (int d = 0; d < out_shape[3]; ++d, ++o) {
          const int ia = a - g.before[0], ib = b - g.before[1], ic = c - g.before[2], id = d - g.before[3];
          const bool inside = ia >= 0 && ia < g.in_shape[0] && ib >= 0 && ib < g.in_shape[1] && ic >= 0 && ic < g.in_shape[2] &&
                              id >= 0 && id < g.in_shape[3];
          const void* src = pad_value;
          if (inside) {
            const int64_t i = ((static_cast<int64_t>(ia) * g.in_shape[1] + ib) * g.in_shape[2] + ic) * g.in_shape[3] + id;
            src = in + i * element_size;
          }
          std::memcpy(out + o * element_size, src, element_size);
        }
}

}  // namespace personcls::ref
