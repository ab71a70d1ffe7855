#include "quant/quant_params.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace personcls::quant {

AffineQuant ChooseActivationQuant(float rmin_in, float rmax_in) {
  constexpr double kQMin = -128.0, kQMax = 127.0;
  const double rmin = std::min(0.0, static_cast<double>(rmin_in));
  const double rmax = std::max(0.0, static_cast<double>(rmax_in));
  if (!(rmax - rmin > 0.0) || !std::isfinite(rmax - rmin)) return {1.0f / 255.0f, rmin < 0 ? 127 : -128};
  const double scale = (rmax - rmin) / (kQMax - kQMin);
  // The zero point from either end of the range; the one whose terms are smaller carries
  // less floating-point error.
  const double zp_from_min = kQMin - rmin / scale;
  const double zp_from_max = kQMax - rmax / scale;
  const double err_min = std::abs(kQMin) + std::abs(rmin / scale);
  const double err_max = std::abs(kQMax) + std::abs(rmax / scale);
  const double zp = err_min < err_max ? zp_from_min : zp_from_max;
  AffineQuant q;
  q.scale = static_cast<float>(scale);
  q.zero_point = zp <= kQMin ? -128 : zp >= kQMax ? 127 : static_cast<int32_t>(std::round(zp));
  return q;
}

SymmetricWeights QuantizeSymmetric(const float* w, const std::vector<int32_t>& shape, int axis) {
  int64_t total = 1;
  for (int32_t d : shape) total *= d;
  // Element i belongs to channel (i / inner) % channels.
  int64_t channels = 1, inner = total;
  if (axis >= 0) {
    assert(axis < static_cast<int>(shape.size()));
    channels = shape[axis];
    inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  }
  std::vector<float> max_abs(channels, 0.0f);
  for (int64_t i = 0; i < total; ++i) {
    const int64_t c = (i / inner) % channels;
    max_abs[c] = std::max(max_abs[c], std::abs(w[i]));
  }
  SymmetricWeights out;
  out.scales.resize(channels);
  for (int64_t c = 0; c < channels; ++c) out.scales[c] = max_abs[c] > 0.0f ? max_abs[c] / 127.0f : 1.0f;
  out.values.resize(total);
  for (int64_t i = 0; i < total; ++i) {
    const float s = out.scales[(i / inner) % channels];
    const double q = std::round(static_cast<double>(w[i]) / static_cast<double>(s));
    out.values[i] = static_cast<int8_t>(std::clamp(q, -127.0, 127.0));
  }
  return out;
}

std::vector<int32_t> QuantizeBias(const float* b, int channels, float input_scale, const std::vector<float>& weight_scales,
                                  std::vector<float>* scales) {
  assert(weight_scales.size() == 1 || weight_scales.size() == static_cast<size_t>(channels));
  std::vector<int32_t> q(channels);
  scales->assign(weight_scales.size(), 0.0f);
  for (size_t i = 0; i < weight_scales.size(); ++i) (*scales)[i] = input_scale * weight_scales[i];
  for (int c = 0; c < channels; ++c) {
    const float s = (*scales)[weight_scales.size() == 1 ? 0 : c];
    const double v = std::round(static_cast<double>(b[c]) / static_cast<double>(s));
    q[c] = static_cast<int32_t>(std::clamp(v, -2147483648.0, 2147483647.0));
  }
  return q;
}

}  // namespace personcls::quant
