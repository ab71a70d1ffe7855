// The evaluation report of `personcls eval --report`: one self-contained HTML page (inline
// CSS and SVG, images as PNG data URIs, no script, nothing fetched). Header: model, its
// SHA-256, personcls version, command line, data, date, threshold, accuracy, and a warning
// when the data overlaps the model's training images (next to the model's own accuracy
// estimate when it has one). Then the confusion matrix, per-class precision/recall, for
// binary models the ROC and precision-recall curves of the positive ("Person", index 1)
// score with AUC and average precision and a threshold table, thumbnails of the
// misclassified images (most confident first, Grad-CAM overlays when available) and a table
// of every prediction.
#pragma once

#include <cstdint>
#include <optional>
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

struct PredictionRow {
  std::string file;
  int true_index = 0, predicted_index = 0;
  double predicted_score = 0.0;  // probability (or score) of the predicted class
};

// How many evaluated images the model was trained on, from its training fingerprint
// (data/image_fingerprint.h).
struct TrainingOverlap {
  int64_t images = 0;           // evaluated images
  int64_t checked = 0;          // of those, in the fingerprint's sample (all when complete)
  int64_t matched = 0;          // of the checked, found in the fingerprint
  int64_t training_images = 0;  // training images the fingerprint describes
  double sampled_fraction = 1;  // share of training images in the fingerprint
  double false_match_rate = 0;  // per checked image
  double estimated() const { return checked ? static_cast<double>(matched) * static_cast<double>(images) / static_cast<double>(checked) : 0.0; }
  // More matches than chance explains: the accuracy is (partly) on training images.
  bool significant() const;
};
// One line: "500 of 500 evaluated images (100.0 %) are in the model's training set
// (...)"; "about ..." when the fingerprint holds a sample.
std::string OverlapText(const TrainingOverlap& overlap);

struct EvalSummary {
  std::string model, data, date;  // shown as given (HTML-escaped)
  std::string version;            // "personcls 0.1.0"
  std::string model_sha256;       // hex; empty: not shown
  std::string command_line;
  std::string threshold;          // "argmax" or the --threshold value
  std::optional<TrainingOverlap> overlap;  // empty: the model has no training fingerprint
  std::string accuracy_estimate;  // the model's own estimate (e.g. cross-validated); may be empty
  std::vector<PredictionRow> predictions;  // every image, in evaluation order
  std::vector<std::string> labels;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted], labels.size() square
  // Binary models only (else empty): score of class 1 and whether class 1 is the truth.
  std::vector<double> positive_scores;
  std::vector<bool> positive_truth;
  std::vector<MisclassifiedImage> misclassified;  // those shown (may be capped); sorted by the renderer
  int64_t misclassified_total = 0;
};

// Most confidently wrong first (predicted_score descending), then by file: the order the
// report shows; call before capping the list.
void SortMisclassified(std::vector<MisclassifiedImage>& images);

// A thumbnail no larger than max_side x max_side, aspect kept, as PNG bytes.
Expected<std::vector<uint8_t>> ThumbnailPng(const Image& image, int max_side);

std::string RenderHtmlReport(const EvalSummary& summary);
// Renders and writes atomically; errors name the path.
Status WriteHtmlReport(const std::string& path, const EvalSummary& summary);

// "&<>\"'" escaped for HTML text and attribute values.
std::string HtmlEscape(const std::string& text);

}  // namespace personcls::report
