// Dataset-build benchmarks (issue 4, bench/RESULTS.md "Dataset build"):
//   BM_ParseCoco2014       both COCO 2014 instance files parsed and VWW-labelled, on
//                          generated files of the real files' size and shape
//   BM_DecodeResize96      640x480 quality-90 JPEGs -> 96x96 RGB, DCT-scaled or full decode
//   BM_DecodeJpegScale     the decode alone at each DCT scale (where the time goes)
//   BM_VwwBuild            `vww build` end to end on a generated COCO tree of such JPEGs
// Generated inputs go to $PCLS_BENCH_CACHE (default /tmp/personcls-bench-cache), never the
// repository, and are reused by later runs (deterministic: same seed, same bytes).
#include <benchmark/benchmark.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "data/coco_instances.h"
#include "data/image_encoders.h"
#include "data/vww_builder.h"
#include "personcls/image.h"

namespace personcls {
namespace {

namespace fs = std::filesystem;

std::string CacheDir() {
  const char* env = std::getenv("PCLS_BENCH_CACHE");
  const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp/personcls-bench-cache";
  fs::create_directories(dir);
  return dir;
}

// ---- COCO-shaped JSON --------------------------------------------------------------------

struct CocoShape {
  const char* split;  // "train2014"
  size_t images, annotations, bytes;
  uint64_t seed;
};
// The real files: instances_train2014.json is 332,556,225 bytes with 82,783 images and
// 604,907 annotations; instances_val2014.json 160,682,852 bytes, 40,504 and 291,875.
constexpr CocoShape kTrain2014{"train2014", 82783, 604907, 332556225, 1};
constexpr CocoShape kVal2014{"val2014", 40504, 291875, 160682852, 2};

void AppendNumber(std::string* out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 2);
  out->append(buf, end);
}

struct GeneratedImage {
  int64_t id;
  std::string file_name;
  int width, height;
};

// COCO's layout and key order (no spaces, as the real files): info, images, licenses,
// annotations (polygon segmentation, or RLE for crowds, area, iscrowd, image_id, bbox,
// category_id, id), categories ("person" = id 1 among 80). Polygon lengths vary per
// annotation so that the file reaches shape.bytes.
std::string MakeCocoJson(const CocoShape& shape, const std::vector<GeneratedImage>& images) {
  std::mt19937_64 rng(shape.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::string j;
  j.reserve(shape.bytes + (1 << 20));
  j += "{\"info\":{\"description\":\"COCO 2014 Dataset (generated shape)\",\"url\":\"http://cocodataset.org\",\"version\":\"1.0\","
       "\"year\":2014,\"contributor\":\"COCO Consortium\",\"date_created\":\"2017/09/01\"},\"images\":[";
  for (size_t i = 0; i < images.size(); ++i) {
    const GeneratedImage& im = images[i];
    j += i ? ",{" : "{";
    j += "\"license\":" + std::to_string(1 + rng() % 8) + ",\"file_name\":\"" + im.file_name + "\",\"coco_url\":\"http://images.cocodataset.org/" +
         shape.split + "/" + im.file_name + "\",\"height\":" + std::to_string(im.height) + ",\"width\":" + std::to_string(im.width) +
         ",\"date_captured\":\"2013-11-14 16:28:13\",\"flickr_url\":\"http://farm2.staticflickr.com/1234/5678_abcdef.jpg\",\"id\":" +
         std::to_string(im.id) + "}";
  }
  j += "],\"licenses\":[{\"url\":\"http://creativecommons.org/licenses/by-nc-sa/2.0/\",\"id\":1,\"name\":\"Attribution-NonCommercial-ShareAlike License\"}],"
       "\"annotations\":[";
  const std::string categories_tail = [] {
    std::string c = "],\"categories\":[{\"supercategory\":\"person\",\"id\":1,\"name\":\"person\"}";
    for (int k = 2; k <= 80; ++k) c += ",{\"supercategory\":\"thing\",\"id\":" + std::to_string(k + k / 12) + ",\"name\":\"category" + std::to_string(k) + "\"}";
    return c + "]}";
  }();
  for (size_t a = 0; a < shape.annotations; ++a) {
    const GeneratedImage& im = images[rng() % images.size()];
    const bool crowd = rng() % 100 == 0;
    const int64_t category = rng() % 10 < 3 ? 1 : 2 + static_cast<int64_t>(rng() % 79);  // ~30 % persons, as COCO
    const double fraction = std::exp(std::log(1e-5) + unit(rng) * (std::log(0.6) - std::log(1e-5)));
    // Bytes this annotation should take so that the file ends at shape.bytes.
    const double left = static_cast<double>(shape.bytes) - j.size() - categories_tail.size();
    const size_t target = j.size() + static_cast<size_t>(std::max(60.0, left / (shape.annotations - a) * (0.3 + 1.4 * unit(rng))));
    j += a ? ",{\"segmentation\":" : "{\"segmentation\":";
    if (crowd) {
      j += "{\"counts\":[";
      for (int k = 0; j.size() + 120 < target || k < 4; ++k) j += (k ? "," : "") + std::to_string(rng() % 5000);
      j += "],\"size\":[" + std::to_string(im.height) + "," + std::to_string(im.width) + "]}";
    } else {
      j += "[[";
      for (int k = 0; j.size() + 140 < target || k < 6; ++k) {
        if (k) j += ',';
        AppendNumber(&j, unit(rng) * (k % 2 ? im.height : im.width));
      }
      j += "]]";
    }
    j += ",\"area\":";
    AppendNumber(&j, fraction * im.width * im.height);
    j += ",\"iscrowd\":" + std::string(crowd ? "1" : "0") + ",\"image_id\":" + std::to_string(im.id) + ",\"bbox\":[";
    for (int k = 0; k < 4; ++k) {
      if (k) j += ',';
      AppendNumber(&j, unit(rng) * 300);
    }
    j += "],\"category_id\":" + std::to_string(category) + ",\"id\":" + std::to_string(900000000 + a) + "}";
  }
  j += categories_tail;
  return j;
}

std::vector<GeneratedImage> MakeImages(const CocoShape& shape) {
  static constexpr int kSizes[][2] = {{640, 480}, {480, 640}, {640, 427}, {427, 640}, {500, 375}, {640, 426}, {612, 612}};
  std::mt19937_64 rng(shape.seed * 7919);
  std::vector<GeneratedImage> images;
  for (size_t i = 0; i < shape.images; ++i) {
    const int64_t id = static_cast<int64_t>(i) * 7 + static_cast<int64_t>(shape.seed);  // unique across the two files
    char name[64];
    std::snprintf(name, sizeof(name), "COCO_%s_%012lld.jpg", shape.split, static_cast<long long>(id));
    const auto& size = kSizes[rng() % 7];
    images.push_back({id, name, size[0], size[1]});
  }
  return images;
}

// Path of the generated instances file of `shape` in `dir`, generated once.
std::string EnsureCocoJson(const std::string& dir, const CocoShape& shape, const std::vector<GeneratedImage>& images) {
  const std::string path = dir + "/instances_" + shape.split + ".json";
  if (!fs::exists(path)) {
    const Status st = WriteFileAtomic(path, MakeCocoJson(shape, images));
    if (!st.ok()) std::fprintf(stderr, "%s\n", st.message().c_str()), std::abort();
  }
  return path;
}

void BM_ParseCoco2014(benchmark::State& state) {
  const std::string dir = CacheDir() + "/coco2014-shape/annotations";
  fs::create_directories(dir);
  std::vector<std::string> paths;
  size_t bytes = 0;
  for (const CocoShape& shape : {kTrain2014, kVal2014}) {
    paths.push_back(EnsureCocoJson(dir, shape, MakeImages(shape)));
    bytes += fs::file_size(paths.back());
  }
  size_t images = 0, persons = 0;
  for (auto _ : state) {
    images = persons = 0;
    for (size_t f = 0; f < paths.size(); ++f) {
      auto coco = ReadCocoInstances(paths[f]);
      if (!coco.ok()) return state.SkipWithError(coco.status().message().c_str());
      auto labelled = LabelVww(*coco, f == 0 ? "train2014" : "val2014", 0.005, paths[f]);
      if (!labelled.ok()) return state.SkipWithError(labelled.status().message().c_str());
      images += labelled->size();
      for (const VwwImage& im : *labelled) persons += im.label;
    }
    benchmark::DoNotOptimize(persons);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["json_MB"] = bytes / 1e6;
  state.counters["images"] = images;
  state.counters["person_images"] = persons;
}
BENCHMARK(BM_ParseCoco2014)->Unit(benchmark::kMillisecond)->Iterations(3)->MeasureProcessCPUTime()->UseRealTime();

// ---- JPEG decode + resize ----------------------------------------------------------------

// A photo-like 640x480 image: smooth gradients, flat "objects" with edges, sensor-like
// noise, so that quality-90 files are about COCO's size (~160 KB) and the entropy decoder
// does realistic work (a smooth pattern alone would compress to a few KB).
Image MakePhoto(int width, int height, uint32_t seed) {
  Image image = testing::MakePattern(width, height, 3);
  std::mt19937 rng(seed);
  for (int r = 0; r < 12; ++r) {
    const int x0 = rng() % width, y0 = rng() % height, w = 20 + rng() % 200, h = 20 + rng() % 200;
    const uint8_t colour[3] = {static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())};
    for (int y = y0; y < std::min(height, y0 + h); ++y)
      for (int x = x0; x < std::min(width, x0 + w); ++x)
        for (int c = 0; c < 3; ++c) image.pixels[(static_cast<size_t>(y) * width + x) * 3 + c] = colour[c];
  }
  for (uint8_t& p : image.pixels) p = static_cast<uint8_t>(std::clamp(static_cast<int>(p) + static_cast<int>(rng() % 65) - 32, 0, 255));
  return image;
}

const std::vector<std::vector<uint8_t>>& Photos() {
  static const std::vector<std::vector<uint8_t>> photos = [] {
    std::vector<std::vector<uint8_t>> out;
    testing::JpegOptions options;
    options.quality = 90;
    options.subsample = true;  // 4:2:0, as cameras and COCO's JPEGs
    for (uint32_t i = 0; i < 32; ++i) out.push_back(testing::EncodeJpeg(MakePhoto(640, 480, 100 + i), options));
    return out;
  }();
  return photos;
}

// range(0): threads; range(1): 1 = DCT-scaled decode (what vww build does), 0 = full decode.
void BM_DecodeResize96(benchmark::State& state) {
  const auto& photos = Photos();
  const int threads = static_cast<int>(state.range(0));
  const bool scaled = state.range(1) != 0;
  size_t bytes = 0;
  for (const auto& p : photos) bytes += p.size();
  std::vector<uint8_t> out(photos.size() * 96 * 96 * 3);
  for (auto _ : state) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < static_cast<int>(photos.size()); ++i) {
      const auto& p = photos[i];
      Expected<Image> image = scaled ? DecodeJpegAtLeast(p.data(), p.size(), "p.jpg", 96, 96) : DecodeJpeg(p.data(), p.size(), "p.jpg");
      if (!image.ok()) std::abort();
      const Image small = ResizeBilinear(ToRgb(*image), 96, 96);
      std::copy(small.pixels.begin(), small.pixels.end(), out.begin() + static_cast<size_t>(i) * small.pixels.size());
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * photos.size()));
  state.counters["avg_jpeg_KB"] = bytes / 1e3 / photos.size();
}
// CPU time is the whole process's (all threads), so items / CPU-second x cores is what an
// otherwise idle machine can reach even when the benchmark runs on a busy one.
BENCHMARK(BM_DecodeResize96)
    ->ArgNames({"threads", "scaled"})
    ->Args({1, 1})
    ->Args({2, 1})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// Decode only, 1 thread, by minimum size: 1 -> 1/8 scale, 96 -> 1/4, 200 -> 1/2, 100000
// -> full size. Shows how much of the cost is entropy decoding, which no scale avoids.
void BM_DecodeJpegScale(benchmark::State& state) {
  const auto& photos = Photos();
  const int min_side = static_cast<int>(state.range(0));
  for (auto _ : state) {
    for (const auto& p : photos) {
      Expected<Image> image = DecodeJpegAtLeast(p.data(), p.size(), "p.jpg", min_side, min_side);
      if (!image.ok()) std::abort();
      benchmark::DoNotOptimize(image->pixels.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * photos.size()));
}
BENCHMARK(BM_DecodeJpegScale)->ArgName("min")->Arg(1)->Arg(96)->Arg(200)->Arg(100000)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// ---- vww build end to end ----------------------------------------------------------------

// 512 images (the 32 photos repeated) under CACHE/vww-tree, and build outputs beside it.
void BM_VwwBuild(benchmark::State& state) {
  const std::string root = CacheDir() + "/vww-tree";
  const CocoShape train{"train2014", 384, 1200, 400000, 3}, val{"val2014", 128, 400, 140000, 4};
  for (const CocoShape& shape : {train, val}) {
    std::vector<GeneratedImage> images = MakeImages(shape);
    for (auto& im : images) im.width = 640, im.height = 480;  // the photos' size
    fs::create_directories(root + "/annotations");
    fs::create_directories(root + "/" + shape.split);
    EnsureCocoJson(root + "/annotations", shape, images);
    for (size_t i = 0; i < images.size(); ++i) {
      const std::string path = root + "/" + shape.split + "/" + images[i].file_name;
      if (fs::exists(path)) continue;
      const auto& p = Photos()[i % Photos().size()];
      if (!WriteFileAtomic(path, std::string(p.begin(), p.end())).ok()) std::abort();
    }
  }
  VwwBuildOptions options;
  options.coco_root = root;
  options.out_dir = CacheDir() + "/vww-out";
  options.threads = static_cast<int>(state.range(0));
  size_t images = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(options.out_dir);
    state.ResumeTiming();
    auto report = BuildVww(options);
    if (!report.ok()) return state.SkipWithError(report.status().message().c_str());
    images = report->splits[0].images + report->splits[1].images;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * images));
}
BENCHMARK(BM_VwwBuild)->ArgName("threads")->Arg(2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace
}  // namespace personcls
