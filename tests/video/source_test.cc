// FrameSource and VideoWriter through FFmpeg, on media the tests encode themselves:
// lossless and lossy round trips, JPEG streams on stdin decoded bit for bit like
// `classify`, truncated and corrupted files, stalls, and clear errors.
#include "video/source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/image_encoders.h"
#include "test_util.h"
#include "video/video_test_util.h"
#include "video/video_writer.h"

namespace personcls {
namespace {

using testing::MakeNoise;
using testing::ReadAllFrames;
using video::SourceKind;

std::vector<Image> NoiseFrames(int n, int w, int h) {
  std::vector<Image> frames;
  for (int i = 0; i < n; ++i) frames.push_back(MakeNoise(w, h, 3, 1000 + i));
  return frames;
}

// Smooth moving gradients: what lossy codecs are made for.
std::vector<Image> MovingFrames(int n, int w, int h) {
  std::vector<Image> frames;
  for (int i = 0; i < n; ++i) {
    Image img{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c)
          img.pixels[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>(40 + ((x + 3 * i) * (c + 1) + y * 2) % 170);
    frames.push_back(std::move(img));
  }
  return frames;
}

double MeanAbsDiff(const Image& a, const Image& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) sum += std::abs(a.pixels[i] - b.pixels[i]);
  return sum / static_cast<double>(a.pixels.size());
}

// FFV1 version 3 with slice CRCs, so damage is detected by the decoder.
video::WriterOptions LosslessRgb() {
  video::WriterOptions o;
  o.codec = "ffv1";
  o.pixel_format = "bgr0";
  o.codec_options = {{"level", "3"}, {"slicecrc", "1"}};
  return o;
}

void Truncate(const std::string& path, double fraction) {
  const uintmax_t size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, static_cast<uintmax_t>(size * fraction));
}

TEST(VideoSource, ClassifiesSourcesByName) {
  EXPECT_EQ(video::ClassifySource("-"), SourceKind::kStdin);
  EXPECT_EQ(video::ClassifySource("rtsp://cam.local:554/stream"), SourceKind::kNetwork);
  EXPECT_EQ(video::ClassifySource("http://127.0.0.1:8080/video.mjpg"), SourceKind::kNetwork);
  EXPECT_EQ(video::ClassifySource("file:///tmp/x.mp4"), SourceKind::kFile);
  EXPECT_EQ(video::ClassifySource("/dev/video7"), SourceKind::kDevice);
  EXPECT_EQ(video::ClassifySource("/dev/null"), SourceKind::kDevice);  // a character device
  EXPECT_EQ(video::ClassifySource("clip.mp4"), SourceKind::kFile);
  EXPECT_EQ(video::ClassifySource("odd name://x"), SourceKind::kFile);
}

TEST(VideoSource, LosslessRgbRoundTripIsBitExact) {
  const std::string path = testing::TempDir() + "/noise.mkv";
  const auto frames = NoiseFrames(12, 66, 50);  // not multiples of 16
  testing::WriteVideo(path, frames, 10, LosslessRgb());
  const auto r = ReadAllFrames(path);
  ASSERT_TRUE(r.end.ok()) << r.end.message();
  ASSERT_EQ(r.frames.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(r.frames[i].index, static_cast<int64_t>(i));
    EXPECT_NEAR(r.frames[i].time, i * 0.1, 1e-9);
    EXPECT_EQ(r.frames[i].image.width, 66);
    EXPECT_EQ(r.frames[i].image.height, 50);
    EXPECT_TRUE(r.frames[i].image.pixels == frames[i].pixels) << "frame " << i;
  }
  EXPECT_EQ(r.corrupt, 0);
  auto s = video::OpenSource(path, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->info().codec, "ffv1");
  EXPECT_NE((*s)->info().format.find("matroska"), std::string::npos);
  EXPECT_EQ((*s)->info().kind, SourceKind::kFile);
  EXPECT_NEAR((*s)->info().fps, 10, 1e-6);
  EXPECT_NEAR((*s)->info().duration, 1.2, 0.11);
}

TEST(VideoSource, LossyH264RoundTripKeepsEveryFrameAndItsTime) {
  const std::string path = testing::TempDir() + "/moving.mp4";
  const auto frames = MovingFrames(30, 96, 64);
  video::WriterOptions o;
  auto w = video::VideoWriter::Open(path, 96, 64, o);
  ASSERT_TRUE(w.ok());
  const std::string codec = (*w)->codec_name();
  w->reset();
  testing::WriteVideo(path, frames, 25);
  const auto r = ReadAllFrames(path);
  ASSERT_TRUE(r.end.ok()) << r.end.message();
  ASSERT_EQ(r.frames.size(), frames.size()) << codec;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_NEAR(r.frames[i].time, i / 25.0, 1e-6);
    // Close to its source frame, and closer to it than to its neighbours (the content
    // moves 3 pixels a frame): the frames come back in order, none lost or repeated.
    const double d = MeanAbsDiff(r.frames[i].image, frames[i]);
    EXPECT_LT(d, 8.0) << codec << " frame " << i;
    if (i > 0) {
      EXPECT_LT(d, MeanAbsDiff(r.frames[i].image, frames[i - 1])) << codec << " frame " << i;
    }
    if (i + 1 < frames.size()) {
      EXPECT_LT(d, MeanAbsDiff(r.frames[i].image, frames[i + 1])) << codec << " frame " << i;
    }
  }
}

TEST(VideoSource, JpegStreamOnStdinDecodesLikeClassify) {
  // Concatenated JPEGs (4:2:0, as cameras send them): each frame equals DecodeJpeg's image.
  std::vector<uint8_t> stream;
  std::vector<Image> expected;
  for (int i = 0; i < 5; ++i) {
    const auto jpeg = testing::EncodeJpeg(MovingFrames(i + 1, 80, 60).back(), testing::JpegQ(85));
    stream.insert(stream.end(), jpeg.begin(), jpeg.end());
    expected.push_back(DecodeJpeg(jpeg.data(), jpeg.size(), "x").value());
  }
  testing::StdinFeed feed(stream, /*hold_open=*/false);
  video::SourceOptions o;
  o.input_fps = 10;
  const auto r = ReadAllFrames("-", o);
  ASSERT_TRUE(r.end.ok()) << r.end.message();
  ASSERT_EQ(r.frames.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(r.frames[i].image.pixels == expected[i].pixels) << i;
    EXPECT_NEAR(r.frames[i].time, i * 0.1, 1e-9);
  }
}

TEST(VideoSource, StdinThatStopsSendingIsReportedAsStalled) {
  // Frames of a few kB: FFmpeg probes the format from the first 2 kB, then more until it
  // has seen a whole JPEG.
  std::vector<uint8_t> stream;
  for (int i = 0; i < 3; ++i) {
    const auto jpeg = testing::EncodeJpeg(MakeNoise(64, 48, 3, i));
    stream.insert(stream.end(), jpeg.begin(), jpeg.end());
  }
  testing::StdinFeed feed(stream, /*hold_open=*/true);
  video::SourceOptions o;
  o.timeout = 0.3;
  const auto r = ReadAllFrames("-", o);
  EXPECT_FALSE(r.end.ok());
  EXPECT_EQ(r.end.message(), "-: no data for 0.3 s (stalled)");
  EXPECT_GE(r.frames.size(), 2u);  // the last JPEG ends only when the next one starts
}

TEST(VideoSource, TruncatedFilesEndCleanlyWithTheFramesBeforeTheCut) {
  const std::string dir = testing::TempDir();
  const auto frames = NoiseFrames(30, 64, 48);
  for (const std::string name : {"cut.mkv", "cut.avi"}) {
    const std::string path = dir + "/" + name;
    testing::WriteVideo(path, frames, 10, LosslessRgb());
    Truncate(path, 0.6);
    const auto r = ReadAllFrames(path);
    EXPECT_TRUE(r.end.ok()) << name << ": " << r.end.message();
    EXPECT_GT(r.frames.size(), 10u) << name;
    EXPECT_LT(r.frames.size(), 30u) << name;
    for (size_t i = 0; i < r.frames.size(); ++i)  // what came before the cut is intact
      EXPECT_TRUE(r.frames[i].image.pixels == frames[r.frames[i].index].pixels) << name << " frame " << i;
  }
}

TEST(VideoSource, CorruptedPacketsAreCountedAndReadingGoesOn) {
  const std::string path = testing::TempDir() + "/damaged.mkv";
  const auto frames = NoiseFrames(20, 64, 48);
  testing::WriteVideo(path, frames, 10, LosslessRgb());
  auto bytes = testing::ReadFileBytes(path);
  // Scramble 3 kB in the middle (inside frame data; the container's framing survives).
  uint32_t state = 12345;
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 3000; ++i) {
    state = state * 1664525u + 1013904223u;
    bytes[i] = static_cast<uint8_t>(state >> 24);
  }
  testing::WriteFileBytes(path, bytes);
  const auto r = ReadAllFrames(path);
  EXPECT_TRUE(r.end.ok()) << r.end.message();
  EXPECT_GT(r.corrupt, 0);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_EQ(r.warnings[0].rfind(path + ": ", 0), 0u) << r.warnings[0];
  // Frames away from the damage still decode exactly.
  EXPECT_TRUE(r.frames.front().image.pixels == frames[r.frames.front().index].pixels);
  EXPECT_TRUE(r.frames.back().image.pixels == frames[r.frames.back().index].pixels);
}

TEST(VideoSource, ErrorsNameTheSource) {
  const std::string dir = testing::TempDir();
  auto missing = video::OpenSource(dir + "/missing.mp4", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), dir + "/missing.mp4: cannot open: No such file or directory");
  std::ofstream(dir + "/notes.txt") << "not a video at all\n";
  auto text = video::OpenSource(dir + "/notes.txt", {});
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message().rfind(dir + "/notes.txt: ", 0), 0u) << text.status().message();
  video::SourceOptions bad_format;
  bad_format.format = "no-such-format";
  auto f = video::OpenSource(dir + "/notes.txt", bad_format);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("unknown input format 'no-such-format'"), std::string::npos);
  testing::WriteVideo(dir + "/ok.mkv", NoiseFrames(2, 16, 16), 10, LosslessRgb());
  video::SourceOptions bad_option;
  bad_option.options = {{"no_such_option", "1"}};
  auto o = video::OpenSource(dir + "/ok.mkv", bad_option);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("option not understood"), std::string::npos) << o.status().message();
  EXPECT_NE(o.status().message().find("no_such_option"), std::string::npos);
}

TEST(VideoWriter, WritesAtomicallyAndReportsBadRequests) {
  const std::string dir = testing::TempDir();
  // Not closed: nothing appears (no partial file), and an existing file is untouched.
  testing::WriteFileBytes(dir + "/keep.mkv", {1, 2, 3});
  {
    auto w = video::VideoWriter::Open(dir + "/keep.mkv", 32, 32, LosslessRgb());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(MakeNoise(32, 32, 3, 1), 0).ok());
  }
  EXPECT_EQ(testing::ReadFileBytes(dir + "/keep.mkv"), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  auto ext = video::VideoWriter::Open(dir + "/x.unknownext", 32, 32, {});
  ASSERT_FALSE(ext.ok());
  EXPECT_NE(ext.status().message().find("no video container for this file name"), std::string::npos);
  video::WriterOptions codec;
  codec.codec = "no-such-encoder";
  auto c = video::VideoWriter::Open(dir + "/x.mkv", 32, 32, codec);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), dir + "/x.mkv: no video encoder named 'no-such-encoder'");
  auto dirless = video::VideoWriter::Open(dir + "/no/such/dir/x.mkv", 32, 32, {});
  ASSERT_FALSE(dirless.ok());
  EXPECT_NE(dirless.status().message().find("cannot create"), std::string::npos) << dirless.status().message();
}

}  // namespace
}  // namespace personcls
