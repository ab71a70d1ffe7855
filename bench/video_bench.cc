// Reading video for `watch` (bench/RESULTS.md "watch"): a 640x480 H.264 stream (libx264,
// 30 fps, 2 s; a smooth gradient with a moving block and low-amplitude noise, so every
// frame differs) through FrameSource:
//   BM_VideoDecode         demux + decode (Next)
//   BM_VideoDecodeToRgb    demux + decode + conversion to RGB (Next + Convert), what the
//                          reader thread of `watch` does for each frame
// The stream goes to $PCLS_BENCH_CACHE (default /tmp/personcls-bench-cache) and is reused.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "video/source.h"
#include "video/video_writer.h"

namespace personcls {
namespace {

std::string Stream640() {
  static const std::string path = [] {
    const char* env = std::getenv("PCLS_BENCH_CACHE");
    const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp/personcls-bench-cache";
    std::filesystem::create_directories(dir);
    const std::string p = dir + "/stream640x480.mp4";
    if (std::filesystem::exists(p)) return p;
    constexpr int kW = 640, kH = 480, kFrames = 60;
    auto writer = video::VideoWriter::Open(p, kW, kH, video::WriterOptions{});
    if (!writer.ok()) return std::string();
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> noise(-4, 4);
    Image frame{kW, kH, 3, std::vector<uint8_t>(static_cast<size_t>(kW) * kH * 3)};
    for (int i = 0; i < kFrames; ++i) {
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x) {
          const bool block = x >= 8 * i && x < 8 * i + 120 && y >= 180 && y < 300;
          for (int c = 0; c < 3; ++c) {
            const int v = block ? 220 - 60 * c : 30 + (x * (c + 1) + y * 2) / 6 % 190;
            frame.pixels[(static_cast<size_t>(y) * kW + x) * 3 + c] = static_cast<uint8_t>(std::clamp(v + noise(rng), 0, 255));
          }
        }
      if (!(*writer)->Write(frame, i / 30.0).ok()) return std::string();
    }
    return (*writer)->Close().ok() ? p : std::string();
  }();
  return path;
}

void ReadFrames(benchmark::State& state, bool convert) {
  const std::string path = Stream640();
  if (path.empty()) {
    state.SkipWithError("cannot write the test stream");
    return;
  }
  auto source = video::OpenSource(path, {});
  Image image;
  for (auto _ : state) {
    double t = 0;
    int64_t index = 0;
    auto outcome = (*source)->Next(&t, &index);
    if (!outcome.ok() || *outcome != video::ReadOutcome::kFrame) {
      state.PauseTiming();
      source = video::OpenSource(path, {});
      state.ResumeTiming();
      outcome = (*source)->Next(&t, &index);
    }
    if (convert) benchmark::DoNotOptimize((*source)->Convert(&image));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_VideoDecode(benchmark::State& state) { ReadFrames(state, false); }
void BM_VideoDecodeToRgb(benchmark::State& state) { ReadFrames(state, true); }
BENCHMARK(BM_VideoDecode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_VideoDecodeToRgb)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace personcls
