// Writes the 640x480 test stream of bench/run_watch_fps.sh: a mosaic of vww01-dev photos
// (12 x 5 tiles of 96x96, 1152x480) panned 4 pixels a frame, so every frame differs and
// the decoder does real work; H.264 (libx264, crf 23, veryfast) at 30 fps.
// Usage: personcls_watch_stream VWW_DIR OUT.mp4 [SECONDS]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "personcls/image.h"
#include "video/video_writer.h"

int main(int argc, char** argv) {
  using namespace personcls;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s VWW_DIR OUT.mp4 [SECONDS]\n", argv[0]);
    return 2;
  }
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 30;
  constexpr int kTile = 96, kCols = 12, kRows = 5, kW = 640, kH = 480, kFps = 30, kStep = 4;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(argv[1]))
    if (e.path().extension() == ".bin") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.size() < kCols * kRows) {
    std::fprintf(stderr, "%s: needs %d .bin images\n", argv[1], kCols * kRows);
    return 1;
  }
  Image canvas{kTile * kCols, kTile * kRows, 3, std::vector<uint8_t>(static_cast<size_t>(kTile * kCols) * kTile * kRows * 3)};
  for (int t = 0; t < kCols * kRows; ++t) {
    auto tile = LoadImage(files[t]);
    if (!tile.ok()) {
      std::fprintf(stderr, "%s\n", tile.status().message().c_str());
      return 1;
    }
    const int x0 = (t % kCols) * kTile, y0 = (t / kCols) * kTile;
    for (int y = 0; y < kTile; ++y)
      std::copy_n(&tile->pixels[static_cast<size_t>(y) * kTile * 3], kTile * 3, &canvas.pixels[(static_cast<size_t>(y0 + y) * canvas.width + x0) * 3]);
  }
  video::WriterOptions options;
  options.fps = kFps;
  auto writer = video::VideoWriter::Open(argv[2], kW, kH, options);
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().message().c_str());
    return 1;
  }
  Image frame{kW, kH, 3, std::vector<uint8_t>(static_cast<size_t>(kW) * kH * 3)};
  const int travel = canvas.width - kW;
  for (int i = 0; i < seconds * kFps; ++i) {
    const int phase = (i * kStep) % (2 * travel);
    const int x0 = phase < travel ? phase : 2 * travel - phase;  // back and forth
    for (int y = 0; y < kH; ++y)
      std::copy_n(&canvas.pixels[(static_cast<size_t>(y) * canvas.width + x0) * 3], kW * 3, &frame.pixels[static_cast<size_t>(y) * kW * 3]);
    if (Status s = (*writer)->Write(frame, static_cast<double>(i) / kFps); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
  }
  if (Status s = (*writer)->Close(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::printf("%s: %d frames %dx%d at %d fps, %s\n", argv[2], seconds * kFps, kW, kH, kFps, (*writer)->codec_name().c_str());
  return 0;
}
