// The evaluation report of `personcls eval --report`: one self-contained HTML page (inline
// CSS and SVG, images as PNG data URIs, no script, nothing fetched) with accuracy, the
// confusion matrix, per-class precision/recall, for binary models the ROC curve with its
// AUC and a threshold table on the positive ("Person", index 1) score, and thumbnails of
// the misclassified images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "personcls/image.h"
#include "personcls/status.h"

namespace personcls::report {

struct MisclassifiedImage {
  std::string file;
  int true_index = 0, predicted_index = 0;
  double predicted_score = 0.0;
  std::vector<uint8_t> thumbnail_png;  // empty: shown without a picture
};

struct EvalSummary {
  std::string model, data, date;  // shown as given (HTML-escaped)
  std::vector<std::string> labels;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted], labels.size() square
  // Binary models only (else empty): score of class 1 and whether class 1 is the truth.
  std::vector<double> positive_scores;
  std::vector<bool> positive_truth;
  std::vector<MisclassifiedImage> misclassified;  // those with thumbnails (may be capped)
  int64_t misclassified_total = 0;
};

// A thumbnail no larger than max_side x max_side, aspect kept, as PNG bytes.
Expected<std::vector<uint8_t>> ThumbnailPng(const Image& image, int max_side);

std::string RenderHtmlReport(const EvalSummary& summary);
// Renders and writes atomically; errors name the path.
Status WriteHtmlReport(const std::string& path, const EvalSummary& summary);

// "&<>\"'" escaped for HTML text and attribute values.
std::string HtmlEscape(const std::string& text);

}  // namespace personcls::report
