// The training loader (src/data/loader.h): deterministic order and augmentation whatever
// the thread count, resumable from an epoch number, class-balanced sampling, batch mixing.
#include "data/loader.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "test_util.h"

namespace personcls {
namespace {

// n images of size x size x 3; image i is filled with (i * 37 + pixel) % 256 so every image
// differs; labels[i] from `label_of`.
Dataset Synthetic(int n, int size, int (*label_of)(int)) {
  Dataset d;
  d.size = size;
  d.channels = 3;
  d.pixels.resize(static_cast<size_t>(n) * d.image_bytes());
  for (int i = 0; i < n; ++i) {
    for (size_t j = 0; j < d.image_bytes(); ++j) d.pixels[i * d.image_bytes() + j] = static_cast<uint8_t>((i * 37 + j) % 256);
    d.labels.push_back(label_of(i));
    d.files.push_back(std::to_string(i));
  }
  return d;
}

int Alternate(int i) { return i % 2; }
int MostlyZero(int i) { return i % 10 == 0 ? 1 : 0; }

std::vector<Batch> Epoch(Loader& loader, int epoch) {
  loader.Start(epoch);
  std::vector<Batch> out;
  Batch b;
  while (loader.Next(&b)) out.push_back(b);
  return out;
}

void ExpectSameBatches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, static_cast<int>(i));
    EXPECT_EQ(a[i].indices, b[i].indices) << "batch " << i;
    EXPECT_EQ(a[i].labels, b[i].labels) << "batch " << i;
    EXPECT_EQ(a[i].pixels, b[i].pixels) << "batch " << i;
    EXPECT_EQ(a[i].mix.partner, b[i].mix.partner) << "batch " << i;
    EXPECT_EQ(a[i].mix.lambda, b[i].mix.lambda) << "batch " << i;
  }
}

TEST(Loader, OrderIsASeededPermutationPerEpoch) {
  const Dataset d = Synthetic(50, 4, Alternate);
  const auto e0 = Loader::EpochOrder(d, 7, 0, true, false), e1 = Loader::EpochOrder(d, 7, 1, true, false);
  EXPECT_EQ(e0, Loader::EpochOrder(d, 7, 0, true, false));
  EXPECT_NE(e0, e1);
  EXPECT_NE(e0, Loader::EpochOrder(d, 8, 0, true, false));
  for (const auto* o : {&e0, &e1}) {
    std::vector<uint32_t> sorted = *o;
    std::sort(sorted.begin(), sorted.end());
    std::vector<uint32_t> all(50);
    std::iota(all.begin(), all.end(), 0u);
    EXPECT_EQ(sorted, all);
  }
  std::vector<uint32_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0u);
  EXPECT_EQ(Loader::EpochOrder(d, 7, 3, false, false), identity);
}

TEST(Loader, SameBatchesForEveryThreadCountAndPrefetch) {
  const Dataset d = Synthetic(23, 20, Alternate);  // 23 = 3 * 7 + 2: a partial last batch
  LoaderOptions o;
  o.batch = 7;
  o.out_size = 16;
  o.seed = 99;
  o.augment = *ParseAugment("sscma,resized-crop");
  o.threads = 0;
  Loader reference(d, o);
  EXPECT_EQ(reference.batches_per_epoch(), 4);
  const std::vector<Batch> e0 = Epoch(reference, 0), e1 = Epoch(reference, 1);
  ASSERT_EQ(e0.size(), 4u);
  EXPECT_EQ(e0.back().count, 2);
  EXPECT_EQ(e0[0].pixels.size(), 7u * 16 * 16 * 3);
  EXPECT_NE(e0[0].pixels, e1[0].pixels);
  for (int threads : {1, 2, 3}) {
    for (int prefetch : {1, 3}) {
      SCOPED_TRACE(::testing::Message() << threads << " threads, prefetch " << prefetch);
      o.threads = threads;
      o.prefetch = prefetch;
      Loader loader(d, o);
      ExpectSameBatches(Epoch(loader, 0), e0);
      ExpectSameBatches(Epoch(loader, 1), e1);
    }
  }
  // Resuming at epoch 1 without epoch 0 gives epoch 1's batches.
  o.threads = 2;
  Loader resumed(d, o);
  ExpectSameBatches(Epoch(resumed, 1), e1);
}

TEST(Loader, RestartMidEpochDropsStaleBatches) {
  const Dataset d = Synthetic(40, 8, Alternate);
  LoaderOptions o;
  o.batch = 4;
  o.out_size = 8;
  o.threads = 2;
  o.prefetch = 3;
  o.augment = *ParseAugment("hflip,rotate");
  Loader loader(d, o);
  const std::vector<Batch> e2 = Epoch(loader, 2);
  loader.Start(0);
  Batch b;
  ASSERT_TRUE(loader.Next(&b));
  EXPECT_EQ(b.epoch, 0);
  ExpectSameBatches(Epoch(loader, 2), e2);  // started again, from its first batch
}

TEST(Loader, NoAugmentationCopiesImagesAndDropsASingleLastImage) {
  const Dataset d = Synthetic(9, 6, Alternate);  // 9 = 2 * 4 + 1: the last image is dropped
  LoaderOptions o;
  o.batch = 4;
  o.out_size = 6;
  o.shuffle = false;
  Loader loader(d, o);
  EXPECT_EQ(loader.batches_per_epoch(), 2);
  const std::vector<Batch> e = Epoch(loader, 0);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].indices, (std::vector<uint32_t>{4, 5, 6, 7}));
  EXPECT_EQ(e[1].labels, (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_TRUE(std::equal(e[1].pixels.begin(), e[1].pixels.end(), d.image(4)));
  EXPECT_EQ(e[1].mix.lambda, 1.0);
}

TEST(Loader, BalancedSamplingEqualizesClasses) {
  const Dataset d = Synthetic(1000, 2, MostlyZero);  // 10 % class 1
  const auto order = Loader::EpochOrder(d, 5, 0, true, true);
  ASSERT_EQ(order.size(), 1000u);
  int ones = 0;
  std::set<uint32_t> distinct_ones;
  for (uint32_t i : order) {
    ones += d.labels[i];
    if (d.labels[i]) distinct_ones.insert(i);
  }
  EXPECT_NEAR(ones, 500, 60);  // binomial(1000, 1/2): sd 16
  EXPECT_EQ(distinct_ones.size(), 100u);  // the minority cycles through all its images
  const auto plain = Loader::EpochOrder(d, 5, 0, true, false);
  int plain_ones = 0;
  for (uint32_t i : plain) plain_ones += d.labels[i];
  EXPECT_EQ(plain_ones, 100);
}

TEST(Loader, MixupAndCutmixBatchesAreDeterministic) {
  const Dataset d = Synthetic(16, 8, Alternate);
  for (BatchMix mix : {BatchMix::kMixup, BatchMix::kCutmix}) {
    LoaderOptions o;
    o.batch = 8;
    o.out_size = 8;
    o.mix = mix;
    o.mix_alpha = 1.0;
    o.threads = 0;
    Loader serial(d, o);
    const std::vector<Batch> a = Epoch(serial, 0);
    o.threads = 2;
    Loader parallel(d, o);
    ExpectSameBatches(Epoch(parallel, 0), a);
    for (const Batch& b : a) {
      ASSERT_EQ(b.mix.partner.size(), 8u);
      EXPECT_GE(b.mix.lambda, 0.0);
      EXPECT_LE(b.mix.lambda, 1.0);
      EXPECT_EQ(b.mix.partner[0], 7);  // roll by one
    }
  }
}

}  // namespace
}  // namespace personcls
