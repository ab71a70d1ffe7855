#include "report/roc.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <numeric>

namespace personcls::report {

std::vector<RocPoint> RocCurve(const std::vector<double>& scores, const std::vector<bool>& positive) {
  assert(scores.size() == positive.size());
  const int64_t pos = std::count(positive.begin(), positive.end(), true);
  const int64_t neg = static_cast<int64_t>(positive.size()) - pos;
  if (pos == 0 || neg == 0) return {};
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<RocPoint> curve{{0.0, 0.0, std::numeric_limits<double>::infinity()}};
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < order.size();) {
    const double s = scores[order[i]];
    for (; i < order.size() && scores[order[i]] == s; ++i) (positive[order[i]] ? tp : fp) += 1;
    curve.push_back({static_cast<double>(fp) / static_cast<double>(neg), static_cast<double>(tp) / static_cast<double>(pos), s});
  }
  return curve;
}

double RocAuc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const std::vector<RocPoint> curve = RocCurve(scores, positive);
  if (curve.empty()) return std::numeric_limits<double>::quiet_NaN();
  double area = 0.0;
  for (size_t i = 1; i < curve.size(); ++i) area += (curve[i].fpr - curve[i - 1].fpr) * (curve[i].tpr + curve[i - 1].tpr) / 2.0;
  return area;
}

std::vector<PrPoint> PrCurve(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const std::vector<RocPoint> roc = RocCurve(scores, positive);
  if (roc.empty()) return {};
  const double pos = static_cast<double>(std::count(positive.begin(), positive.end(), true));
  const double neg = static_cast<double>(positive.size()) - pos;
  std::vector<PrPoint> curve;
  for (size_t i = 1; i < roc.size(); ++i) {
    const double tp = roc[i].tpr * pos, fp = roc[i].fpr * neg;
    curve.push_back({roc[i].tpr, tp / (tp + fp), roc[i].threshold});
  }
  curve.insert(curve.begin(), {0.0, curve.front().precision, std::numeric_limits<double>::infinity()});
  return curve;
}

double AveragePrecision(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const std::vector<PrPoint> curve = PrCurve(scores, positive);
  if (curve.empty()) return std::numeric_limits<double>::quiet_NaN();
  double ap = 0.0;
  for (size_t i = 1; i < curve.size(); ++i) ap += (curve[i].recall - curve[i - 1].recall) * curve[i].precision;
  return ap;
}

ThresholdStats StatsAtThreshold(const std::vector<double>& scores, const std::vector<bool>& positive, double threshold) {
  ThresholdStats s;
  s.threshold = threshold;
  for (size_t i = 0; i < scores.size(); ++i) {
    const bool predicted = scores[i] > threshold;
    if (positive[i])
      (predicted ? s.tp : s.fn) += 1;
    else
      (predicted ? s.fp : s.tn) += 1;
  }
  return s;
}

std::vector<double> ReportThresholds(const std::vector<double>& scores) {
  if (scores.empty()) return {};
  const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
  if (*lo >= 0.0 && *hi <= 1.0) return {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95};
  std::vector<double> t;
  for (int i = 1; i <= 9; ++i) t.push_back(*lo + (*hi - *lo) * i / 10.0);
  return t;
}

}  // namespace personcls::report
