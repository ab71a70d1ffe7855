// Binary-classifier metrics over a positive-class score: ROC curve, AUC and confusion
// counts at a threshold. A sample is predicted positive when its score is strictly above
// the threshold (as `classify --threshold T`).
#pragma once

#include <cstdint>
#include <vector>

namespace personcls::report {

struct RocPoint {
  double fpr = 0.0, tpr = 0.0;
  double threshold = 0.0;  // the score at which this point is reached (predict score >= it)
};

// Points from (0,0) to (1,1), one per distinct score (tied scores move together, so a tie
// of a positive and a negative is a diagonal segment). `positive[i]` is the truth of
// scores[i]. Empty when either class is absent.
std::vector<RocPoint> RocCurve(const std::vector<double>& scores, const std::vector<bool>& positive);

// Area under RocCurve by trapezoids: the probability that a random positive scores above a
// random negative, ties counting one half (Mann-Whitney U / (P N)). NaN when a class is absent.
double RocAuc(const std::vector<double>& scores, const std::vector<bool>& positive);

struct PrPoint {
  double recall = 0.0, precision = 1.0;
  double threshold = 0.0;  // predict score >= it
};

// Precision-recall points, one per distinct score from the highest (the ROC's points with
// precision = TP / (TP + FP)), starting at recall 0 with the first point's precision.
// Empty when either class is absent.
std::vector<PrPoint> PrCurve(const std::vector<double>& scores, const std::vector<bool>& positive);

// Average precision: sum over the curve of (recall_i - recall_{i-1}) * precision_i (no
// interpolation, as scikit-learn). NaN when a class is absent.
double AveragePrecision(const std::vector<double>& scores, const std::vector<bool>& positive);

struct ThresholdStats {
  double threshold = 0.0;
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  double tpr() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0; }
  double fpr() const { return fp + tn ? static_cast<double>(fp) / static_cast<double>(fp + tn) : 0.0; }
  // 1 when nothing is predicted positive (no false positive was made).
  double precision() const { return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 1.0; }
  double accuracy() const {
    const int64_t n = tp + fp + tn + fn;
    return n ? static_cast<double>(tp + tn) / static_cast<double>(n) : 0.0;
  }
};

ThresholdStats StatsAtThreshold(const std::vector<double>& scores, const std::vector<bool>& positive, double threshold);

// Thresholds for a report table: 0.05, 0.1, 0.2, ..., 0.9, 0.95 when every score lies in
// [0, 1] (probabilities), else 9 evenly spaced values strictly between min and max.
std::vector<double> ReportThresholds(const std::vector<double>& scores);

}  // namespace personcls::report
