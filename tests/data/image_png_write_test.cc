// PNG encoding: round trips through our decoder, atomic writes, errors.
#include <filesystem>
#include <random>

#include "personcls/image.h"
#include "test_util.h"

namespace personcls {
namespace {

Image Noise(int w, int h, int c, uint32_t seed) {
  std::mt19937 rng(seed);
  Image image{w, h, c, std::vector<uint8_t>(static_cast<size_t>(w) * h * c)};
  for (uint8_t& p : image.pixels) p = static_cast<uint8_t>(rng());
  return image;
}

TEST(PngWrite, RoundTripsGrayAndRgb) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  for (int channels : {1, 3})
    for (auto [w, h] : {std::pair{1, 1}, std::pair{7, 3}, std::pair{64, 33}}) {
      const Image image = Noise(w, h, channels, seed + w);
      auto bytes = EncodePng(image);
      ASSERT_TRUE(bytes.ok()) << bytes.status().message();
      auto back = DecodePng(bytes->data(), bytes->size(), "x.png");
      ASSERT_TRUE(back.ok()) << back.status().message();
      EXPECT_EQ(back->width, w);
      EXPECT_EQ(back->height, h);
      EXPECT_EQ(back->channels, channels);
      EXPECT_EQ(back->pixels, image.pixels);
    }
}

TEST(PngWrite, WritesAtomicallyAndNamesThePathOnError) {
  const std::string dir = testing::TempDir();
  const Image image = Noise(5, 4, 3, 1);
  ASSERT_TRUE(WritePng(dir + "/a.png", image).ok());
  auto back = LoadImage(dir + "/a.png");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pixels, image.pixels);
  // A failed write leaves the existing file as it was and no temporary behind.
  const auto before = testing::ReadFileBytes(dir + "/a.png");
  Status s = WritePng(dir + "/a.png", Image{});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("a.png"), std::string::npos) << s.message();
  EXPECT_EQ(testing::ReadFileBytes(dir + "/a.png"), before);
  s = WritePng(dir + "/missing/b.png", image);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing/b.png"), std::string::npos) << s.message();
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace personcls
