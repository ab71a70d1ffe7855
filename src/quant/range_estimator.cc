#include "quant/range_estimator.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace personcls::quant {

void RangeEstimator::ObserveMinMax(const float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) continue;  // callers reject non-finite activations separately
    if (!seen_) {
      min_ = max_ = v[i];
      seen_ = true;
    }
    min_ = std::min(min_, v[i]);
    max_ = std::max(max_, v[i]);
  }
}

void RangeEstimator::StartHistogram(int bins) {
  assert(bins > 0);
  hist_.assign(bins, 0);
  hist_lo_ = std::min(0.0, static_cast<double>(min_));
  const double hi = std::max(0.0, static_cast<double>(max_));
  bin_width_ = (hi - hist_lo_) / bins;
}

void RangeEstimator::ObserveHistogram(const float* v, size_t n) {
  const int64_t last = static_cast<int64_t>(hist_.size()) - 1;
  if (!(bin_width_ > 0.0)) {  // every value was 0
    hist_[0] += n;
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) continue;
    const int64_t b = static_cast<int64_t>(std::floor((v[i] - hist_lo_) / bin_width_));
    ++hist_[std::clamp<int64_t>(b, 0, last)];
  }
}

void RangeEstimator::PercentileRange(double percentile, float* lo, float* hi) const {
  uint64_t total = 0;
  for (uint64_t c : hist_) total += c;
  *lo = std::min(0.0f, min_);
  *hi = std::max(0.0f, max_);
  if (total == 0 || !(bin_width_ > 0.0)) return;
  // The value below which `fraction` of the samples lie, linear inside a bin.
  auto quantile = [&](double fraction) {
    const double target = fraction * static_cast<double>(total);
    double below = 0;
    for (size_t i = 0; i < hist_.size(); ++i) {
      const double c = static_cast<double>(hist_[i]);
      if (below + c >= target && c > 0) return hist_lo_ + (static_cast<double>(i) + (target - below) / c) * bin_width_;
      below += c;
    }
    return hist_lo_ + static_cast<double>(hist_.size()) * bin_width_;
  };
  const double keep = percentile / 100.0;
  *hi = static_cast<float>(std::max(0.0, quantile(keep)));
  if (min_ < 0.0f) *lo = static_cast<float>(std::min(0.0, quantile(1.0 - keep)));
}

void RangeEstimator::L2Range(float* lo, float* hi) const {
  const double lo_max = std::min(0.0, static_cast<double>(min_));
  const double hi_max = std::max(0.0, static_cast<double>(max_));
  *lo = static_cast<float>(lo_max);
  *hi = static_cast<float>(hi_max);
  if (!(bin_width_ > 0.0)) return;
  constexpr int kSteps = 128;  // candidate fractions k / kSteps of each end
  auto cost = [&](double a, double b) {
    const double scale = (b - a) / 255.0;
    const double inside = scale * scale / 12.0;
    double sum = 0;
    for (size_t i = 0; i < hist_.size(); ++i) {
      if (hist_[i] == 0) continue;
      const double x = BinCenter(i);
      const double d = x < a ? a - x : x > b ? x - b : 0.0;
      sum += static_cast<double>(hist_[i]) * (d > 0 ? d * d : inside);
    }
    return sum;
  };
  double best = cost(lo_max, hi_max);
  const int lo_steps = lo_max < 0 ? kSteps : 1;
  const int hi_steps = hi_max > 0 ? kSteps : 1;
  for (int i = 1; i <= lo_steps; ++i) {
    for (int j = 1; j <= hi_steps; ++j) {
      const double a = lo_max * i / lo_steps, b = hi_max * j / hi_steps;
      if (!(b - a > 0)) continue;
      const double c = cost(a, b);
      if (c < best) {
        best = c;
        *lo = static_cast<float>(a);
        *hi = static_cast<float>(b);
      }
    }
  }
}

}  // namespace personcls::quant
