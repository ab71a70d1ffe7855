// Calibration statistics of one tensor and the [min, max] ranges derived from them.
//
// Minmax needs one pass over the calibration data. Percentile and L2 need a second pass:
// a histogram over the minmax range (widened to contain 0), `bins` equal bins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace personcls::quant {

class RangeEstimator {
 public:
  // Pass 1: observed extremes.
  void ObserveMinMax(const float* values, size_t n);
  float min() const { return min_; }
  float max() const { return max_; }
  bool seen() const { return seen_; }

  // Pass 2: histogram over [min(min(), 0), max(max(), 0)]. Call after all of pass 1.
  void StartHistogram(int bins);
  void ObserveHistogram(const float* values, size_t n);
  const std::vector<uint64_t>& histogram() const { return hist_; }

  // The range keeping `percentile` % of the values: the lower bound is the (100 -
  // percentile) % quantile (0 when no value is negative), the upper the percentile %
  // quantile, both interpolated within their bin.
  void PercentileRange(double percentile, float* lo, float* hi) const;

  // The range [lo, hi] (lo = a * lo_max, hi = b * hi_max with a, b stepped over (0, 1]) that
  // minimizes the expected squared int8 error over the histogram: values inside the range
  // cost scale^2 / 12 (uniform rounding error), values outside their squared clipping
  // distance.
  void L2Range(float* lo, float* hi) const;

 private:
  double BinCenter(size_t i) const { return hist_lo_ + (static_cast<double>(i) + 0.5) * bin_width_; }
  float min_ = 0.0f, max_ = 0.0f;
  bool seen_ = false;
  std::vector<uint64_t> hist_;
  double hist_lo_ = 0.0, bin_width_ = 0.0;
};

}  // namespace personcls::quant
