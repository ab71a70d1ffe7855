#include "report/html_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "report/base64.h"
#include "report/roc.h"

namespace personcls::report {
namespace {

constexpr char kStyle[] = R"(body{font-family:sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #bbb;padding:4px 10px;text-align:right}
th{background:#eef}td.l,th.l{text-align:left}.good{background:#d7f5d7}.bad{background:#f9d6d6}
.meta{color:#555}.thumbs{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;border:1px solid #ccc;padding:4px;width:130px;font-size:11px;word-wrap:break-word}
figure img{display:block;margin:auto;image-rendering:pixelated}
.warn{border:3px solid #c0392b;background:#fdecea;padding:8px 12px;margin:12px 0;font-weight:bold}
.plots{display:flex;flex-wrap:wrap;gap:24px}.wrong{background:#f9d6d6}
details{margin:8px 0}summary{cursor:pointer}
)";

double Ratio(int64_t a, int64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

std::string Percent(double v) { return std::isnan(v) ? "n/a" : fmt::format("{:.2f} %", 100.0 * v); }

void AppendConfusion(const EvalSummary& s, std::string& html) {
  const size_t k = s.labels.size();
  html += "<h2>Confusion matrix</h2>\n<p class=\"meta\">Rows: true class; columns: predicted class.</p>\n<table><tr><th></th>";
  for (const auto& l : s.labels) html += "<th>" + HtmlEscape(l) + "</th>";
  html += "</tr>\n";
  for (size_t r = 0; r < k; ++r) {
    html += "<tr><th class=\"l\">" + HtmlEscape(s.labels[r]) + "</th>";
    for (size_t c = 0; c < k; ++c) html += fmt::format("<td class=\"{}\">{}</td>", r == c ? "good" : "bad", s.confusion[r][c]);
    html += "</tr>\n";
  }
  html += "</table>\n<h2>Per class</h2>\n<table><tr><th class=\"l\">class</th><th>precision</th><th>recall</th><th>support</th></tr>\n";
  for (size_t c = 0; c < k; ++c) {
    int64_t predicted = 0, actual = 0;
    for (size_t o = 0; o < k; ++o) {
      predicted += s.confusion[o][c];
      actual += s.confusion[c][o];
    }
    html += fmt::format("<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", HtmlEscape(s.labels[c]),
                        Percent(Ratio(s.confusion[c][c], predicted)), Percent(Ratio(s.confusion[c][c], actual)), actual);
  }
  html += "</table>\n";
}

// A curve as inline SVG: a 300x300 plot area at (40,10), x right, y up, both in [0, 1].
std::string CurveSvg(const std::string& id, const std::string& points, bool diagonal, const std::string& x_label, const std::string& y_label,
                     const std::string& note) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{}\" width=\"360\" height=\"350\" viewBox=\"0 0 360 350\" role=\"img\" "
      "aria-label=\"{}\">\n"
      "<rect x=\"40\" y=\"10\" width=\"300\" height=\"300\" fill=\"#f8f8ff\" stroke=\"#444\"/>\n{}"
      "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n"
      "<text x=\"190\" y=\"340\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n"
      "<text x=\"14\" y=\"160\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 14 160)\">{}</text>\n"
      "<text x=\"36\" y=\"314\" text-anchor=\"end\" font-size=\"11\">0</text><text x=\"36\" y=\"18\" text-anchor=\"end\" "
      "font-size=\"11\">1</text><text x=\"340\" y=\"324\" text-anchor=\"middle\" font-size=\"11\">1</text>\n"
      "<text x=\"{}\" y=\"290\" text-anchor=\"{}\" font-size=\"15\">{}</text>\n</svg>\n",
      id, id, diagonal ? "<line x1=\"40\" y1=\"310\" x2=\"340\" y2=\"10\" stroke=\"#aaa\" stroke-dasharray=\"4 4\"/>\n" : "",
      id == "roc" ? "#c0392b" : "#1f5fbf", points, x_label, y_label, diagonal ? 330 : 50, diagonal ? "end" : "start", note);
}

void AppendRoc(const EvalSummary& s, std::string& html) {
  const std::vector<RocPoint> curve = RocCurve(s.positive_scores, s.positive_truth);
  const std::string positive = HtmlEscape(s.labels[1]);
  html += "<h2>ROC and precision-recall curves (" + positive + " score)</h2>\n";
  if (curve.empty()) {
    html += "<p>Not available: the data holds only one class.</p>\n";
    return;
  }
  const double auc = RocAuc(s.positive_scores, s.positive_truth);
  const double ap = AveragePrecision(s.positive_scores, s.positive_truth);
  std::string roc_points, pr_points;
  for (const RocPoint& p : curve) roc_points += fmt::format("{:.2f},{:.2f} ", 40 + 300 * p.fpr, 310 - 300 * p.tpr);
  // Precision-recall as a step function: precision holds until the next recall.
  const std::vector<PrPoint> pr = PrCurve(s.positive_scores, s.positive_truth);
  for (size_t i = 0; i < pr.size(); ++i) {
    if (i > 0) pr_points += fmt::format("{:.2f},{:.2f} ", 40 + 300 * pr[i].recall, 310 - 300 * pr[i - 1].precision);
    pr_points += fmt::format("{:.2f},{:.2f} ", 40 + 300 * pr[i].recall, 310 - 300 * pr[i].precision);
  }
  html += "<div class=\"plots\">\n";
  html += CurveSvg("roc", roc_points, true, "false positive rate", "true positive rate", fmt::format("AUC = {:.4f}", auc));
  html += CurveSvg("pr", pr_points, false, "recall", "precision", fmt::format("AP = {:.4f}", ap));
  html += "</div>\n";
  html += fmt::format("<p>AUC: <b id=\"auc\">{:.4f}</b> &nbsp; average precision: <b id=\"ap\">{:.4f}</b></p>\n", auc, ap);
  html += "<h2>Thresholds</h2>\n<p class=\"meta\">" + positive + " is predicted when its score is above the threshold.</p>\n";
  html += "<table><tr><th>threshold</th><th>TPR (recall)</th><th>FPR</th><th>precision</th><th>accuracy</th></tr>\n";
  for (double t : ReportThresholds(s.positive_scores)) {
    const ThresholdStats st = StatsAtThreshold(s.positive_scores, s.positive_truth, t);
    html += fmt::format("<tr><td>{:.4g}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", t, Percent(st.tpr()), Percent(st.fpr()),
                        Percent(st.precision()), Percent(st.accuracy()));
  }
  html += "</table>\n";
}

std::string BaseName(const std::string& file) {
  const size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? file : file.substr(slash + 1);
}

void AppendPredictions(const EvalSummary& s, std::string& html) {
  html += fmt::format("<h2>Every prediction ({})</h2>\n<details id=\"predictions\"><summary>Show the table</summary>\n", s.predictions.size());
  html += "<table><tr><th>#</th><th class=\"l\">file</th><th class=\"l\">true</th><th class=\"l\">predicted</th><th>score</th></tr>\n";
  for (size_t i = 0; i < s.predictions.size(); ++i) {
    const PredictionRow& p = s.predictions[i];
    html += fmt::format("<tr{}><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.4f}</td></tr>\n",
                        p.true_index == p.predicted_index ? "" : " class=\"wrong\"", i + 1, HtmlEscape(p.file), HtmlEscape(s.labels[p.true_index]),
                        HtmlEscape(s.labels[p.predicted_index]), p.predicted_score);
  }
  html += "</table>\n</details>\n";
}

void AppendMisclassified(const EvalSummary& s, std::string& html) {
  html += fmt::format("<h2>Misclassified images ({})</h2>\n<p class=\"meta\">Most confident first; Grad-CAM of the predicted class where "
                      "the model allows it (red: the regions that raised its score).",
                      s.misclassified_total);
  if (static_cast<int64_t>(s.misclassified.size()) < s.misclassified_total)
    html += fmt::format(" The {} most confident are shown.", s.misclassified.size());
  html += "</p>\n";
  std::vector<MisclassifiedImage> shown = s.misclassified;
  SortMisclassified(shown);
  html += "<div class=\"thumbs\">\n";
  for (const MisclassifiedImage& m : shown) {
    html += "<figure>";
    if (!m.thumbnail_png.empty()) html += "<img alt=\"\" src=\"data:image/png;base64," + Base64Encode(m.thumbnail_png) + "\">";
    html += fmt::format("<figcaption>{}<br>true: {}<br>predicted: {} ({:.3f})</figcaption></figure>\n",
                        HtmlEscape(BaseName(m.file)), HtmlEscape(s.labels[m.true_index]),
                        HtmlEscape(s.labels[m.predicted_index]), m.predicted_score);
  }
  html += "</div>\n";
}

}  // namespace

bool TrainingOverlap::significant() const {
  // Chance explains about checked * rate matches; allow three standard deviations of that.
  const double chance = static_cast<double>(checked) * false_match_rate;
  return matched > 0 && static_cast<double>(matched) > chance + 3.0 * std::sqrt(chance) + 0.5;
}

std::string OverlapText(const TrainingOverlap& o) {
  const double share = o.images ? 100.0 * o.estimated() / static_cast<double>(o.images) : 0.0;
  if (o.sampled_fraction >= 1.0)
    return fmt::format("{} of {} evaluated images ({:.1f} %) are in the model's training set of {} images (training fingerprint; "
                       "false-match rate {:.1e} per image)",
                       o.matched, o.images, share, o.training_images, o.false_match_rate);
  return fmt::format("about {:.0f} of {} evaluated images ({:.1f} %) are in the model's training set of {} images ({} of the {} "
                     "evaluated images in its 1-in-{:.0f} fingerprint sample matched)",
                     o.estimated(), o.images, share, o.training_images, o.matched, o.checked, 1.0 / o.sampled_fraction);
}

void SortMisclassified(std::vector<MisclassifiedImage>& images) {
  std::stable_sort(images.begin(), images.end(), [](const MisclassifiedImage& a, const MisclassifiedImage& b) {
    return a.predicted_score != b.predicted_score ? a.predicted_score > b.predicted_score : a.file < b.file;
  });
}

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Expected<std::vector<uint8_t>> ThumbnailPng(const Image& image, int max_side) {
  const double f = std::min(1.0, static_cast<double>(max_side) / std::max(image.width, image.height));
  const int w = std::max(1, static_cast<int>(std::lround(image.width * f)));
  const int h = std::max(1, static_cast<int>(std::lround(image.height * f)));
  return EncodePng(ResizeBilinear(image, w, h));
}

std::string RenderHtmlReport(const EvalSummary& s) {
  int64_t total = 0, correct = 0;
  for (size_t r = 0; r < s.confusion.size(); ++r)
    for (size_t c = 0; c < s.confusion[r].size(); ++c) {
      total += s.confusion[r][c];
      correct += r == c ? s.confusion[r][c] : 0;
    }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>personcls eval: " + HtmlEscape(s.model) +
                     "</title>\n<style>" + kStyle + "</style></head>\n<body>\n<h1>personcls evaluation report</h1>\n";
  auto row = [&html](const std::string& key, const std::string& value_html, const std::string& id = "") {
    html += "<tr><th class=\"l\">" + key + "</th><td class=\"l\"" + (id.empty() ? "" : " id=\"" + id + "\"") + ">" + value_html + "</td></tr>\n";
  };
  html += "<table>\n";
  row("model", HtmlEscape(s.model), "model");
  if (!s.model_sha256.empty()) row("model SHA-256", "<code>" + HtmlEscape(s.model_sha256) + "</code>", "sha256");
  if (!s.version.empty()) row("personcls", HtmlEscape(s.version), "version");
  if (!s.command_line.empty()) row("command", "<code>" + HtmlEscape(s.command_line) + "</code>", "command");
  row("data", HtmlEscape(s.data));
  row("date", HtmlEscape(s.date));
  if (!s.threshold.empty()) row("decision", HtmlEscape(s.threshold), "threshold");
  row("images", std::to_string(total));
  row("accuracy", fmt::format("<b id=\"accuracy\">{}</b> ({} / {})", Percent(Ratio(correct, total)), correct, total));
  if (!s.accuracy_estimate.empty()) row("model's estimate", HtmlEscape(s.accuracy_estimate), "estimate");
  if (s.overlap) row("training overlap", HtmlEscape(OverlapText(*s.overlap)), "overlap");
  else row("training overlap", "unknown: the model carries no training fingerprint", "overlap");
  html += "</table>\n";
  if (s.overlap && s.overlap->significant())
    html += "<p class=\"warn\" id=\"overlap-warning\">Warning: " + HtmlEscape(OverlapText(*s.overlap)) +
            ". This accuracy is measured (partly) on images the model was trained on: it is not an estimate of its accuracy on new images" +
            (s.accuracy_estimate.empty() ? std::string(".") : "; the model's own estimate: " + HtmlEscape(s.accuracy_estimate) + ".") + "</p>\n";
  AppendConfusion(s, html);
  if (s.labels.size() == 2 && !s.positive_scores.empty()) AppendRoc(s, html);
  AppendMisclassified(s, html);
  if (!s.predictions.empty()) AppendPredictions(s, html);
  html += "<p class=\"meta\">Written by personcls eval --report.</p>\n</body></html>\n";
  return html;
}

Status WriteHtmlReport(const std::string& path, const EvalSummary& summary) { return WriteFileAtomic(path, RenderHtmlReport(summary)); }

}  // namespace personcls::report
