// Heatmap upsampling, colormap and overlay.
#include "explain/heatmap.h"

#include "test_util.h"

namespace personcls::explain {
namespace {

TEST(Heatmap, UpsamplingUsesHalfPixelCentres) {
  // A 1x2 map [0, 1] to 1x4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  EXPECT_EQ(UpsampleBilinear({0.0f, 1.0f}, 1, 2, 1, 4), (std::vector<float>{0.0f, 0.25f, 0.75f, 1.0f}));
  const std::vector<float> flat = UpsampleBilinear(std::vector<float>(6, 0.5f), 2, 3, 17, 11);
  ASSERT_EQ(flat.size(), 17u * 11u);
  for (float v : flat) EXPECT_FLOAT_EQ(v, 0.5f);
  // Same size: the identity.
  const std::vector<float> m = {0.1f, 0.9f, 0.4f, 0.3f};
  EXPECT_EQ(UpsampleBilinear(m, 2, 2, 2, 2), m);
}

TEST(Heatmap, JetRunsFromBlueToRed) {
  uint8_t lo[3], mid[3], hi[3];
  JetColor(0.0f, lo);
  JetColor(0.5f, mid);
  JetColor(1.0f, hi);
  EXPECT_EQ(lo[0], 0);
  EXPECT_EQ(lo[1], 0);
  EXPECT_EQ(lo[2], 128);
  EXPECT_EQ(mid[1], 255);
  EXPECT_EQ(hi[0], 128);
  EXPECT_EQ(hi[2], 0);
  JetColor(-3.0f, mid);  // clamped
  EXPECT_EQ(mid[2], lo[2]);
}

TEST(Heatmap, OverlayBlendsAtTheImageSize) {
  Image gray{5, 3, 1, std::vector<uint8_t>(15, 200)};
  const std::vector<float> cam = {0.0f, 1.0f};  // left cold, right hot
  const Image none = OverlayHeatmap(gray, cam, 1, 2, 0.0f);
  EXPECT_EQ(none.channels, 3);
  EXPECT_EQ(none.pixels, ToRgb(gray).pixels);
  const Image out = OverlayHeatmap(gray, cam, 1, 2, 0.5f);
  ASSERT_EQ(out.width, 5);
  ASSERT_EQ(out.height, 3);
  // Leftmost pixel: jet(0) = (0,0,128) half-blended with 200.
  EXPECT_EQ(out.at(0, 0, 0), 100);
  EXPECT_EQ(out.at(0, 0, 2), 164);
  EXPECT_GT(out.at(0, 4, 0), out.at(0, 4, 2));  // right side red
}

}  // namespace
}  // namespace personcls::explain
