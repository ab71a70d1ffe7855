// Loader throughput: augmented samples/s from an image cache (the format `vww build`
// writes) with SSCMA's full pipeline, and the cost of each augmentation op.
//
// Images: ../shared/data/vww01-dev (500 real 96x96 photos) when present, else a synthetic
// pattern; they are written to a temporary cache and read back with LoadDataset, so the
// benchmark reads what training reads.
//   build-*/bench/personcls_bench --benchmark_filter='Loader|AugmentOp'
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/image_cache.h"
#include "data/loader.h"

namespace personcls {
namespace {

const Dataset& CachedImages() {
  static const Dataset data = [] {
    // ../shared beside the checkout: this file is REPO/bench/loader_bench.cc.
    const std::string shared = (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "shared/data/vww01-dev").string();
    Dataset d;
    auto real = LoadDataset(shared, 96, 2, false);
    if (real.ok()) {
      d = std::move(*real);
    } else {
      d.size = 96;
      d.channels = 3;
      for (int i = 0; i < 512; ++i) {
        for (size_t j = 0; j < d.image_bytes(); ++j) d.pixels.push_back(static_cast<uint8_t>((i * 31 + j * 7 + (j / 288) * 5) % 256));
        d.labels.push_back(i % 2);
      }
    }
    ImageCache cache;
    cache.height = cache.width = d.size;
    cache.channels = d.channels;
    for (size_t i = 0; i < d.count(); ++i) cache.records.push_back({static_cast<int64_t>(i), "image" + std::to_string(i), d.labels[i], 96, 96});
    cache.pixels = d.pixels;
    const std::string prefix = (std::filesystem::temp_directory_path() / ("personcls_loader_bench_" + std::to_string(getpid()))).string();
    if (!WriteImageCache(prefix, cache).ok()) std::abort();
    auto back = LoadDataset(prefix, 96, 2, false);
    std::filesystem::remove(prefix + ".pcache");
    std::filesystem::remove(prefix + ".index.csv");
    if (!back.ok()) std::abort();
    return std::move(*back);
  }();
  return data;
}

// Batches of 128 with SSCMA's pipeline from `threads` workers; one iteration = one batch.
void BM_LoaderSscma(benchmark::State& state) {
  const Dataset& data = CachedImages();
  LoaderOptions o;
  o.batch = 128;
  o.threads = static_cast<int>(state.range(0));
  o.augment = *ParseAugment("sscma");
  Loader loader(data, o);
  int epoch = 0;
  loader.Start(epoch);
  int64_t samples = 0;
  Batch b;
  for (auto _ : state) {
    if (!loader.Next(&b)) {
      loader.Start(++epoch);
      loader.Next(&b);
    }
    samples += b.count;
    benchmark::DoNotOptimize(b.pixels.data());
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoaderSscma)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// One op (probability 1) on one 96x96 RGB image.
void BM_AugmentOp(benchmark::State& state) {
  const Dataset& data = CachedImages();
  const AugmentOp op = static_cast<AugmentOp>(state.range(0));
  AugmentConfig c;
  c.enabled[static_cast<int>(op)] = true;
  c.jitter_p = c.translate_p = c.rgb_shift_p = c.median_p = c.gray_p = c.clahe_p = c.hflip_p = c.vflip_p = c.tone_p = c.crop_p = c.rotate_p = 1.0;
  Image src;
  src.width = src.height = data.size;
  src.channels = data.channels;
  std::mt19937_64 rng(1);
  size_t i = 0;
  for (auto _ : state) {
    src.pixels.assign(data.image(i), data.image(i) + data.image_bytes());
    i = (i + 1) % data.count();
    Image out = Augment(src, c, 96, 96, rng);
    benchmark::DoNotOptimize(out.pixels.data());
  }
  state.SetLabel(AugmentOpName(op));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AugmentOp)->DenseRange(0, kAugmentOpCount - 1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace personcls
