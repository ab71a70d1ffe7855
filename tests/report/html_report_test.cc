// The HTML evaluation report: contents, self-containedness, and a real render in headless
// Chromium (skipped when Chromium is not installed).
#include "report/html_report.h"

#include <cstdlib>
#include <set>

#include "test_util.h"

namespace personcls::report {
namespace {

Image Solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  Image image{w, h, 3, {}};
  for (int i = 0; i < w * h; ++i) image.pixels.insert(image.pixels.end(), {r, g, b});
  return image;
}

// 5 images: the scores and truths of roc_test.cc's hand-computed case.
EvalSummary SmallSummary() {
  EvalSummary s;
  s.model = "tiny<&>.tflite";
  s.data = "dev";
  s.date = "2026-01-02 03:04 UTC";
  s.labels = {"Not a person", "Person"};
  s.confusion = {{2, 0}, {2, 1}};
  s.positive_scores = {0.9, 0.5, 0.5, 0.5, 0.2};
  s.positive_truth = {true, true, false, true, false};
  auto png = ThumbnailPng(Solid(200, 100, 0, 200, 0), 96);
  EXPECT_TRUE(png.ok());
  s.misclassified = {{"dir/b.jpg", 1, 0, 0.5, *png}, {"dir/d.jpg", 1, 0, 0.75, *png}};
  s.misclassified_total = 2;
  s.version = "personcls 9.9.9";
  s.model_sha256 = "ab12";
  s.command_line = "personcls eval --data 'a b'";
  s.threshold = "argmax";
  s.accuracy_estimate = "80 % cross-validated";
  report::TrainingOverlap overlap;
  overlap.images = 5;
  overlap.checked = 5;
  overlap.matched = 4;
  overlap.training_images = 500;
  overlap.false_match_rate = 1.0 / 65536;
  s.overlap = overlap;
  s.predictions = {{"dir/a.jpg", 1, 1, 0.9}, {"dir/b.jpg", 1, 0, 0.5}, {"dir/c.jpg", 0, 0, 0.5}, {"dir/d.jpg", 1, 0, 0.75}, {"dir/e.jpg", 0, 0, 0.8}};
  return s;
}

TEST(HtmlReport, HoldsTheExpectedPieces) {
  const std::string html = RenderHtmlReport(SmallSummary());
  for (const char* piece : {"<!DOCTYPE html>", "tiny&lt;&amp;&gt;.tflite", "2026-01-02 03:04 UTC", "60.00 %", "(3 / 5)",
                            "<svg", "<polyline", "AUC: <b id=\"auc\">0.8333</b>", "Misclassified images (2)", "data:image/png;base64,iVBORw0KGgo",
                            "true: Person", "b.jpg"})
    EXPECT_NE(html.find(piece), std::string::npos) << piece;
  // Header: version, model hash, command line (escaped), threshold; the overlap warning next
  // to the model's own estimate.
  for (const char* piece : {"personcls 9.9.9", "<code>ab12</code>", "personcls eval --data &#39;a b&#39;", "id=\"threshold\">argmax",
                            "id=\"overlap-warning\"", "4 of 5 evaluated images (80.0 %) are in the model&#39;s training set of 500",
                            "the model's own estimate: 80 % cross-validated"})
    EXPECT_NE(html.find(piece), std::string::npos) << piece;
  // The precision-recall curve beside the ROC, with its average precision (roc_test.cc).
  EXPECT_NE(html.find("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"pr\""), std::string::npos);
  EXPECT_NE(html.find("average precision: <b id=\"ap\">0.8333</b>"), std::string::npos);
  // Misclassified, most confident first: d (0.75) before b (0.5).
  EXPECT_LT(html.find("<figcaption>d.jpg"), html.find("<figcaption>b.jpg"));
  // Every prediction in a table, the wrong ones marked.
  EXPECT_NE(html.find("Every prediction (5)"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"wrong\"><td>2</td><td class=\"l\">dir/b.jpg</td>"), std::string::npos);
  // Threshold table row at 0.5: TPR 1/3, FPR 0, precision 1, accuracy 3/5.
  EXPECT_NE(html.find("<tr><td>0.5</td><td>33.33 %</td><td>0.00 %</td><td>100.00 %</td><td>60.00 %</td></tr>"), std::string::npos);
  // Nothing fetched from elsewhere.
  for (const char* external : {"<script", "<link", "src=\"http", "href=", "url(", "@import"})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
}

TEST(HtmlReport, NoWarningWithoutOverlap) {
  EvalSummary s = SmallSummary();
  s.overlap->matched = 0;
  std::string html = RenderHtmlReport(s);
  EXPECT_EQ(html.find("overlap-warning"), std::string::npos);
  EXPECT_NE(html.find("0 of 5 evaluated images (0.0 %)"), std::string::npos);
  s.overlap.reset();
  html = RenderHtmlReport(s);
  EXPECT_NE(html.find("unknown: the model carries no training fingerprint"), std::string::npos);
}

TEST(HtmlReport, MultiClassHasNoRoc) {
  EvalSummary s = SmallSummary();
  s.labels = {"a", "b", "c"};
  s.confusion = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  s.positive_scores.clear();
  s.positive_truth.clear();
  s.misclassified.clear();
  s.misclassified_total = 0;
  const std::string html = RenderHtmlReport(s);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("100.00 %"), std::string::npos);
}

TEST(HtmlReport, ThumbnailKeepsAspect) {
  auto png = ThumbnailPng(Solid(300, 150, 1, 2, 3), 96);
  ASSERT_TRUE(png.ok());
  auto back = DecodePng(png->data(), png->size(), "t.png");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->width, 96);
  EXPECT_EQ(back->height, 48);
  auto small = DecodePng(ThumbnailPng(Solid(10, 20, 1, 2, 3), 96)->data(), ThumbnailPng(Solid(10, 20, 1, 2, 3), 96)->size(), "s.png");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->width, 10);  // never enlarged
}

TEST(HtmlReport, WriteIsAtomicAndNamesThePath) {
  const std::string dir = testing::TempDir();
  ASSERT_TRUE(WriteHtmlReport(dir + "/r.html", SmallSummary()).ok());
  EXPECT_EQ(testing::ReadFileBytes(dir + "/r.html").size(), RenderHtmlReport(SmallSummary()).size());
  const Status s = WriteHtmlReport(dir + "/no/such/r.html", SmallSummary());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no/such/r.html"), std::string::npos) << s.message();
}

// Renders the page in headless Chromium and checks the screenshot shows it: many colours,
// ink on the white page, the ROC curve's red and the green thumbnails.
TEST(HtmlReport, RendersInHeadlessChromium) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  const std::string dir = testing::TempDir();
  ASSERT_TRUE(WriteHtmlReport(dir + "/r.html", SmallSummary()).ok());
  const std::string cmd = "timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=" + dir +
                          "/profile --screenshot=" + dir + "/shot.png --window-size=900,2000 file://" + dir + "/r.html >" + dir +
                          "/chromium.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "see " << dir << "/chromium.log";
  auto shot = LoadImage(dir + "/shot.png");
  ASSERT_TRUE(shot.ok()) << shot.status().message();
  EXPECT_EQ(shot->width, 900);
  std::set<uint32_t> colours;
  int64_t ink = 0, roc_red = 0, pr_blue = 0, warn_pink = 0, thumb_green = 0;
  for (size_t i = 0; i + 2 < shot->pixels.size(); i += shot->channels) {
    const uint8_t r = shot->pixels[i], g = shot->pixels[i + 1], b = shot->pixels[i + 2];
    colours.insert(uint32_t{r} << 16 | uint32_t{g} << 8 | b);
    ink += r < 128 && g < 128 && b < 128;
    roc_red += r == 0xc0 && g == 0x39 && b == 0x2b;
    pr_blue += r == 0x1f && g == 0x5f && b == 0xbf;
    warn_pink += r == 0xfd && g == 0xec && b == 0xea;
    thumb_green += r == 0 && g == 200 && b == 0;
  }
  EXPECT_GT(colours.size(), 20u);
  EXPECT_GT(ink, 2000);  // text
  EXPECT_GT(roc_red, 100);
  EXPECT_GT(pr_blue, 100);      // the precision-recall curve
  EXPECT_GT(warn_pink, 20000);  // the overlap warning box
  EXPECT_GE(thumb_green, 2 * 90 * 40);  // two 96x48 thumbnails, minus antialiased edges
}

}  // namespace
}  // namespace personcls::report
