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

// ROC as inline SVG: a 300x300 plot area at (40,10), FPR right, TPR up.
void AppendRoc(const EvalSummary& s, std::string& html) {
  const std::vector<RocPoint> curve = RocCurve(s.positive_scores, s.positive_truth);
  const std::string positive = HtmlEscape(s.labels[1]);
  html += "<h2>ROC curve (" + positive + " score)</h2>\n";
  if (curve.empty()) {
    html += "<p>Not available: the data holds only one class.</p>\n";
    return;
  }
  const double auc = RocAuc(s.positive_scores, s.positive_truth);
  std::string points;
  for (const RocPoint& p : curve) points += fmt::format("{:.2f},{:.2f} ", 40 + 300 * p.fpr, 310 - 300 * p.tpr);
  html += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"350\" viewBox=\"0 0 360 350\" role=\"img\" "
      "aria-label=\"ROC curve\">\n"
      "<rect x=\"40\" y=\"10\" width=\"300\" height=\"300\" fill=\"#f8f8ff\" stroke=\"#444\"/>\n"
      "<line x1=\"40\" y1=\"310\" x2=\"340\" y2=\"10\" stroke=\"#aaa\" stroke-dasharray=\"4 4\"/>\n"
      "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{}\"/>\n"
      "<text x=\"190\" y=\"340\" text-anchor=\"middle\" font-size=\"13\">false positive rate</text>\n"
      "<text x=\"14\" y=\"160\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 14 160)\">true positive rate</text>\n"
      "<text x=\"36\" y=\"314\" text-anchor=\"end\" font-size=\"11\">0</text><text x=\"36\" y=\"18\" text-anchor=\"end\" "
      "font-size=\"11\">1</text><text x=\"340\" y=\"324\" text-anchor=\"middle\" font-size=\"11\">1</text>\n"
      "<text x=\"330\" y=\"290\" text-anchor=\"end\" font-size=\"15\">AUC = {:.4f}</text>\n</svg>\n",
      points, auc);
  html += fmt::format("<p>AUC: <b id=\"auc\">{:.4f}</b></p>\n", auc);
  html += "<h2>Thresholds</h2>\n<p class=\"meta\">" + positive + " is predicted when its score is above the threshold.</p>\n";
  html += "<table><tr><th>threshold</th><th>TPR</th><th>FPR</th><th>precision</th><th>accuracy</th></tr>\n";
  for (double t : ReportThresholds(s.positive_scores)) {
    const ThresholdStats st = StatsAtThreshold(s.positive_scores, s.positive_truth, t);
    html += fmt::format("<tr><td>{:.4g}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", t, Percent(st.tpr()), Percent(st.fpr()),
                        Percent(st.precision()), Percent(st.accuracy()));
  }
  html += "</table>\n";
}

void AppendMisclassified(const EvalSummary& s, std::string& html) {
  html += fmt::format("<h2>Misclassified images ({})</h2>\n", s.misclassified_total);
  if (static_cast<int64_t>(s.misclassified.size()) < s.misclassified_total)
    html += fmt::format("<p class=\"meta\">The first {} are shown.</p>\n", s.misclassified.size());
  html += "<div class=\"thumbs\">\n";
  for (const MisclassifiedImage& m : s.misclassified) {
    html += "<figure>";
    if (!m.thumbnail_png.empty()) html += "<img alt=\"\" src=\"data:image/png;base64," + Base64Encode(m.thumbnail_png) + "\">";
    const size_t slash = m.file.find_last_of('/');
    html += fmt::format("<figcaption>{}<br>true: {}<br>predicted: {} ({:.3f})</figcaption></figure>\n",
                        HtmlEscape(slash == std::string::npos ? m.file : m.file.substr(slash + 1)), HtmlEscape(s.labels[m.true_index]),
                        HtmlEscape(s.labels[m.predicted_index]), m.predicted_score);
  }
  html += "</div>\n";
}

}  // namespace

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
  html += "<table><tr><th class=\"l\">model</th><td class=\"l\" id=\"model\">" + HtmlEscape(s.model) + "</td></tr>\n";
  html += "<tr><th class=\"l\">data</th><td class=\"l\">" + HtmlEscape(s.data) + "</td></tr>\n";
  html += "<tr><th class=\"l\">date</th><td class=\"l\">" + HtmlEscape(s.date) + "</td></tr>\n";
  html += fmt::format("<tr><th class=\"l\">images</th><td class=\"l\">{}</td></tr>\n", total);
  html += fmt::format("<tr><th class=\"l\">accuracy</th><td class=\"l\"><b id=\"accuracy\">{}</b> ({} / {})</td></tr></table>\n",
                      Percent(Ratio(correct, total)), correct, total);
  AppendConfusion(s, html);
  if (s.labels.size() == 2 && !s.positive_scores.empty()) AppendRoc(s, html);
  AppendMisclassified(s, html);
  html += "<p class=\"meta\">Written by personcls eval --report.</p>\n</body></html>\n";
  return html;
}

Status WriteHtmlReport(const std::string& path, const EvalSummary& summary) { return WriteFileAtomic(path, RenderHtmlReport(summary)); }

}  // namespace personcls::report
