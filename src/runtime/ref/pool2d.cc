#include <algorithm>
#include <limits>

#include "runtime/ref/ref_kernels.h"

namespace personcls::ref {
namespace {

// Calls fn(n, oy, ox, c, y_begin, y_end, x_begin, x_end) for every output element with
// the in-bounds window [y_begin, y_end) x [x_begin, x_end) in input coordinates.
template <typename Fn>
void ForEachWindow(const ConvGeometry& g, Fn fn) {
  for (int n = 0; n < g.batch; ++n)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox) {
        const PoolWindow w = PoolWindowAt(g, oy, ox);
        for (int c = 0; c < g.in_c; ++c) fn(n, oy, ox, c, w.yb, w.ye, w.xb, w.xe);
      }
}

inline int64_t InIndex(const ConvGeometry& g, int n, int y, int x, int c) {
  return ((static_cast<int64_t>(n) * g.in_h + y) * g.in_w + x) * g.in_c + c;
}
inline int64_t OutIndex(const ConvGeometry& g, int n, int y, int x, int c) {
  return ((static_cast<int64_t>(n) * g.out_h + y) * g.out_w + x) * g.in_c + c;
}

}  // namespace

bool s8_avgpool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output) {
  bool ok = true;
  ForEachWindow(g, [&](int n, int oy, int ox, int c, int yb, int ye, int xb, int xe) {
    int32_t acc = 0;
    int count = 0;
    for (int y = yb; y < ye; ++y)
      for (int x = xb; x < xe; ++x) {
        acc += input[InIndex(g, n, y, x, c)];
        ++count;
      }
    if (count == 0) {
      ok = false;
      return;
    }
    // Round half away from zero.
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    acc = std::min(std::max(acc, act_min), act_max);
    output[OutIndex(g, n, oy, ox, c)] = static_cast<int8_t>(acc);
  });
  return ok;
}

bool f32_avgpool2d(const ConvGeometry& g, F32Clamp clamp, const float* input, float* output) {
  bool ok = true;
  ForEachWindow(g, [&](int n, int oy, int ox, int c, int yb, int ye, int xb, int xe) {
    float acc = 0.0f;
    int count = 0;
    for (int y = yb; y < ye; ++y)
      for (int x = xb; x < xe; ++x) {
        acc += input[InIndex(g, n, y, x, c)];
        ++count;
      }
    if (count == 0) {
      ok = false;
      return;
    }
    output[OutIndex(g, n, oy, ox, c)] = std::min(std::max(acc / static_cast<float>(count), clamp.min), clamp.max);
  });
  return ok;
}

void s8_maxpool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output) {
  ForEachWindow(g, [&](int n, int oy, int ox, int c, int yb, int ye, int xb, int xe) {
    int32_t m = std::numeric_limits<int8_t>::lowest();
    for (int y = yb; y < ye; ++y)
      for (int x = xb; x < xe; ++x) m = std::max<int32_t>(m, input[InIndex(g, n, y, x, c)]);
    m = std::min(std::max(m, act_min), act_max);
    output[OutIndex(g, n, oy, ox, c)] = static_cast<int8_t>(m);
  });
}

void f32_maxpool2d(const ConvGeometry& g, F32Clamp clamp, const float* input, float* output) {
  ForEachWindow(g, [&](int n, int oy, int ox, int c, int yb, int ye, int xb, int xe) {
    float m = std::numeric_limits<float>::lowest();
    for (int y = yb; y < ye; ++y)
      for (int x = xb; x < xe; ++x) m = std::max(m, input[InIndex(g, n, y, x, c)]);
    output[OutIndex(g, n, oy, ox, c)] = std::min(std::max(m, clamp.min), clamp.max);
  });
}

}  // namespace personcls::ref
