// Training-image fingerprints: every training image is found, unseen images match at about
// the stated false-match rate, the text form round-trips and stays small, sampling keeps a
// bounded subset, and malformed text is a one-line error.
#include "data/image_fingerprint.h"

#include <algorithm>
#include <random>

#include "test_util.h"

namespace personcls {
namespace {

constexpr int kSize = 12;
constexpr size_t kBytes = kSize * kSize * 3;

// `count` images of uniformly random bytes.
std::vector<uint8_t> RandomPixels(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> px(count * kBytes);
  for (uint8_t& v : px) v = static_cast<uint8_t>(rng());
  return px;
}

TEST(ImageFingerprint, FindsEveryTrainingImageAndFewOthers) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(seed);
  const std::vector<uint8_t> train = RandomPixels(200, seed);
  const ImageFingerprint fp = ImageFingerprint::Build(train.data(), 200, kSize, 3);
  EXPECT_TRUE(fp.complete());
  EXPECT_EQ(fp.images(), 200);
  EXPECT_EQ(fp.count(), 200u);  // 2^-16 collisions among 200 values: practically never
  for (size_t i = 0; i < 200; ++i) EXPECT_EQ(fp.Lookup(train.data() + i * kBytes), ImageFingerprint::Match::kPresent) << i;
  // 5,000 unseen images at a false-match rate of 2^-16: 0.08 matches expected.
  const std::vector<uint8_t> other = RandomPixels(5000, seed + 1);
  int false_matches = 0;
  for (size_t i = 0; i < 5000; ++i) false_matches += fp.Lookup(other.data() + i * kBytes) == ImageFingerprint::Match::kPresent;
  EXPECT_LE(false_matches, 2);
  EXPECT_DOUBLE_EQ(fp.false_match_rate(), 1.0 / 65536);
  // One changed pixel value is another image.
  std::vector<uint8_t> changed(train.begin(), train.begin() + kBytes);
  changed[7] ^= 1;
  EXPECT_EQ(fp.Lookup(changed.data()), ImageFingerprint::Match::kAbsent);
}

TEST(ImageFingerprint, TextRoundTripsAndIsSmall) {
  const std::vector<uint8_t> train = RandomPixels(500, testing::TestSeed());
  const ImageFingerprint fp = ImageFingerprint::Build(train.data(), 500, kSize, 3);
  const std::string text = fp.ToText();
  EXPECT_EQ(text.rfind("pcfp1 size=12 channels=3 images=500 sample_below=4294967296 count=500 bits=16 data=", 0), 0u) << text.substr(0, 100);
  EXPECT_TRUE(std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
  // Golomb-Rice with 16 bits: about 17.6 bits per image, 4/3 for base64.
  EXPECT_LT(text.size(), 500 * 18 / 8 * 4 / 3 + 120);
  auto back = ImageFingerprint::Parse(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->ToText(), text);
  for (size_t i = 0; i < 500; ++i) EXPECT_EQ(back->Lookup(train.data() + i * kBytes), ImageFingerprint::Match::kPresent);
}

TEST(ImageFingerprint, DuplicatesCountOnce) {
  std::vector<uint8_t> train = RandomPixels(3, testing::TestSeed());
  train.insert(train.end(), train.begin(), train.begin() + kBytes);  // image 0 again
  const ImageFingerprint fp = ImageFingerprint::Build(train.data(), 4, kSize, 3);
  EXPECT_EQ(fp.images(), 3);
}

TEST(ImageFingerprint, LargeSetsKeepABoundedSample) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(seed);
  const std::vector<uint8_t> train = RandomPixels(1000, seed);
  const ImageFingerprint fp = ImageFingerprint::Build(train.data(), 1000, kSize, 3, /*max_images=*/100);
  EXPECT_FALSE(fp.complete());
  EXPECT_EQ(fp.images(), 1000);
  EXPECT_LE(fp.count(), 100u);
  EXPECT_GE(fp.count(), 95u);
  int present = 0, not_sampled = 0;
  for (size_t i = 0; i < 1000; ++i) {
    const ImageFingerprint::Match m = fp.Lookup(train.data() + i * kBytes);
    EXPECT_NE(m, ImageFingerprint::Match::kAbsent) << "a training image is never reported absent";
    present += m == ImageFingerprint::Match::kPresent;
    not_sampled += m == ImageFingerprint::Match::kNotSampled;
  }
  EXPECT_EQ(present + not_sampled, 1000);
  EXPECT_EQ(static_cast<size_t>(present), fp.count());
  // The sample's share of hash space matches the share of images kept (binomial, n = 1000).
  EXPECT_NEAR(fp.sampled_fraction(), 0.1, 0.04);
  auto back = ImageFingerprint::Parse(fp.ToText());
  ASSERT_TRUE(back.ok());
  EXPECT_DOUBLE_EQ(back->sampled_fraction(), fp.sampled_fraction());
}

TEST(ImageFingerprint, MalformedTextIsAnError) {
  const std::vector<uint8_t> train = RandomPixels(20, testing::TestSeed());
  const std::string good = ImageFingerprint::Build(train.data(), 20, kSize, 3).ToText();
  const std::string head = good.substr(0, good.find("data=") + 5), data = good.substr(good.find("data=") + 5);
  struct Case {
    std::string text, error;
  } cases[] = {
      {"", "expected 'pcfp1"},
      {"pcfp2 size=12", "expected 'pcfp1"},
      {"pcfp1 size=0 channels=3 images=1 sample_below=1 count=1 bits=16 data=AAAA", "out of range"},
      {"pcfp1 size=12 channels=2 images=1 sample_below=1 count=1 bits=16 data=AAAA", "out of range"},
      {"pcfp1 size=12 channels=3 images=1 sample_below=1 count=2 bits=16 data=AAAA", "out of range"},
      {head + data.substr(0, data.size() - 8), "data ends early"},
      {head + "!!!!", "malformed base64"},
      {head + data.substr(1), "base64 length"},
  };
  for (const Case& c : cases) {
    auto fp = ImageFingerprint::Parse(c.text);
    ASSERT_FALSE(fp.ok()) << c.text;
    EXPECT_NE(fp.status().message().find(c.error), std::string::npos) << fp.status().message();
    EXPECT_EQ(fp.status().message().rfind("training fingerprint", 0), 0u) << fp.status().message();
  }
}

// Two training images whose hashes map to the same coded value both stay: every training
// image is still found after a text round trip (the number of values is what Lookup maps with).
TEST(ImageFingerprint, ImagesMappingToTheSameValueAreAllFound) {
  std::mt19937_64 rng(testing::TestSeed());
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 200; ++i) hashes.push_back(rng() >> 1);  // top bit clear: in the sample
  // v = (h mod 2^32) * n * 2^16 >> 32: equal low 32 bits give equal v.
  hashes.push_back((hashes[0] & 0xffffffffULL) | (uint64_t{0x1234} << 40));
  hashes.push_back((hashes[1] & 0xffffffffULL) | (uint64_t{0x4321} << 40));
  const ImageFingerprint built = ImageFingerprint::FromHashes(hashes, kSize, 3);
  EXPECT_EQ(built.count(), hashes.size()) << "no value dropped";
  auto parsed = ImageFingerprint::Parse(built.ToText());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  for (uint64_t h : hashes) EXPECT_EQ(parsed->LookupHash(h), ImageFingerprint::Match::kPresent) << std::hex << h;
}

TEST(ImageFingerprint, Sha256HexMatchesTheStandardVector) {
  const std::string abc = "abc";
  EXPECT_EQ(Sha256Hex(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace personcls
