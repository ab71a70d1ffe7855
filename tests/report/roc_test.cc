// ROC, AUC (ties included), threshold statistics and base64, against hand-computed values.
#include "report/roc.h"

#include <cmath>
#include <random>

#include "report/base64.h"
#include "test_util.h"

namespace personcls::report {
namespace {

// Positives score {0.9, 0.5, 0.5}, negatives {0.5, 0.2}. Of the 6 positive/negative pairs,
// 4 are ordered right and 2 are ties (0.5 vs 0.5): AUC = (4 + 2 * 0.5) / 6 = 5/6.
const std::vector<double> kScores = {0.9, 0.5, 0.5, 0.5, 0.2};
const std::vector<bool> kPositive = {true, true, false, true, false};

TEST(Roc, CurveMovesTiedScoresTogether) {
  const std::vector<RocPoint> c = RocCurve(kScores, kPositive);
  ASSERT_EQ(c.size(), 4u);  // origin + one point per distinct score
  EXPECT_DOUBLE_EQ(c[0].fpr, 0.0);
  EXPECT_DOUBLE_EQ(c[0].tpr, 0.0);
  EXPECT_DOUBLE_EQ(c[1].fpr, 0.0);
  EXPECT_DOUBLE_EQ(c[1].tpr, 1.0 / 3);
  EXPECT_DOUBLE_EQ(c[2].fpr, 0.5);  // the 0.5 tie: two positives and one negative at once
  EXPECT_DOUBLE_EQ(c[2].tpr, 1.0);
  EXPECT_DOUBLE_EQ(c[2].threshold, 0.5);
  EXPECT_DOUBLE_EQ(c[3].fpr, 1.0);
  EXPECT_DOUBLE_EQ(c[3].tpr, 1.0);
}

TEST(Roc, AucCountsTiesAsHalf) {
  EXPECT_NEAR(RocAuc(kScores, kPositive), 5.0 / 6.0, 1e-12);
  EXPECT_DOUBLE_EQ(RocAuc({0.3, 0.3}, {true, false}), 0.5);
  EXPECT_DOUBLE_EQ(RocAuc({0.9, 0.1}, {true, false}), 1.0);
  EXPECT_DOUBLE_EQ(RocAuc({0.1, 0.9}, {true, false}), 0.0);
  EXPECT_TRUE(std::isnan(RocAuc({0.1, 0.9}, {true, true})));
  EXPECT_TRUE(RocCurve({0.1}, {false}).empty());
}

TEST(Roc, AucEqualsPairCountingOnRandomData) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::vector<double> s(300);
  std::vector<bool> p(300);
  for (size_t i = 0; i < s.size(); ++i) {
    p[i] = rng() % 3 == 0;
    s[i] = static_cast<double>(rng() % 20) / 20 + (p[i] ? 0.1 : 0.0);  // many ties
  }
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = 0; j < s.size(); ++j)
      if (p[i] && !p[j]) {
        pairs += 1;
        wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
      }
  EXPECT_NEAR(RocAuc(s, p), wins / pairs, 1e-12);
}

TEST(Roc, ThresholdStatsUseStrictlyAbove) {
  const ThresholdStats at5 = StatsAtThreshold(kScores, kPositive, 0.5);  // only 0.9 is above
  EXPECT_EQ(at5.tp, 1);
  EXPECT_EQ(at5.fn, 2);
  EXPECT_EQ(at5.fp, 0);
  EXPECT_EQ(at5.tn, 2);
  EXPECT_DOUBLE_EQ(at5.tpr(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(at5.fpr(), 0.0);
  EXPECT_DOUBLE_EQ(at5.precision(), 1.0);
  EXPECT_DOUBLE_EQ(at5.accuracy(), 3.0 / 5);
  const ThresholdStats at3 = StatsAtThreshold(kScores, kPositive, 0.3);
  EXPECT_DOUBLE_EQ(at3.tpr(), 1.0);
  EXPECT_DOUBLE_EQ(at3.fpr(), 0.5);
  EXPECT_DOUBLE_EQ(at3.precision(), 0.75);
  EXPECT_DOUBLE_EQ(at3.accuracy(), 0.8);
  const ThresholdStats none = StatsAtThreshold(kScores, kPositive, 1.0);
  EXPECT_DOUBLE_EQ(none.precision(), 1.0);  // nothing predicted positive
  EXPECT_DOUBLE_EQ(none.tpr(), 0.0);
}

// The hand-computed case of CurveMovesTiedScoresTogether: P = 3, N = 2. Thresholds 0.9, 0.5
// (two positives and a negative tied), 0.2 give (recall, precision) (1/3, 1), (1, 3/4),
// (1, 3/5); AP = 1/3 * 1 + 2/3 * 3/4 = 0.8333 (scikit-learn's average_precision_score).
TEST(Roc, PrecisionRecallCurveAndAveragePrecision) {
  const std::vector<double> scores{0.9, 0.5, 0.5, 0.5, 0.2};
  const std::vector<bool> positive{true, true, false, true, false};
  const std::vector<PrPoint> pr = PrCurve(scores, positive);
  ASSERT_EQ(pr.size(), 4u);
  EXPECT_DOUBLE_EQ(pr[0].recall, 0.0);
  EXPECT_DOUBLE_EQ(pr[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(pr[1].recall, 1.0 / 3);
  EXPECT_DOUBLE_EQ(pr[1].precision, 1.0);
  EXPECT_DOUBLE_EQ(pr[2].recall, 1.0);
  EXPECT_DOUBLE_EQ(pr[2].precision, 0.75);
  EXPECT_DOUBLE_EQ(pr[3].precision, 0.6);
  EXPECT_NEAR(AveragePrecision(scores, positive), 0.5 + 1.0 / 3, 1e-12);
  EXPECT_TRUE(PrCurve({0.1, 0.2}, {true, true}).empty());
  EXPECT_TRUE(std::isnan(AveragePrecision({0.1, 0.2}, {false, false})));
}

TEST(Roc, ReportThresholds) {
  EXPECT_EQ(ReportThresholds(kScores).size(), 11u);
  EXPECT_DOUBLE_EQ(ReportThresholds(kScores)[5], 0.5);
  const std::vector<double> logits = ReportThresholds({-4.0, 6.0});
  ASSERT_EQ(logits.size(), 9u);
  EXPECT_DOUBLE_EQ(logits[0], -3.0);
  EXPECT_DOUBLE_EQ(logits[8], 5.0);
}

TEST(Base64, Rfc4648Vectors) {
  auto enc = [](const std::string& s) { return Base64Encode(std::vector<uint8_t>(s.begin(), s.end())); };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foob"), "Zm9vYg==");
  EXPECT_EQ(enc("fooba"), "Zm9vYmE=");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode({0xff, 0xfe, 0x00}), "//4A");
}

}  // namespace
}  // namespace personcls::report
