// The reader thread of `watch`, over a scripted FrameSource (no FFmpeg): every frame for
// files, dropping for live sources, --fps sampling, reconnects, stalls, undecodable frames.
#include "video/frame_pump.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

namespace personcls::video {
namespace {

// n frames at time i / fps; frame i's single pixel is i % 256. Then it ends, or fails with
// `error`, or (stall) blocks until interrupted.
struct Script {
  int frames = 10;
  double fps = 10;
  SourceKind kind = SourceKind::kFile;
  std::string error;  // fail after the frames
  bool stall = false;
  std::set<int> undecodable;
};

class ScriptedSource : public FrameSource {
 public:
  explicit ScriptedSource(const Script& s) : s_(s) {
    info_.name = "scripted";
    info_.kind = s.kind;
    info_.fps = s.fps;
  }
  const SourceInfo& info() const override { return info_; }
  Expected<ReadOutcome> Next(double* time, int64_t* index) override {
    if (next_ < s_.frames) {
      *time = next_ / s_.fps;
      *index = next_++;
      return ReadOutcome::kFrame;
    }
    if (s_.stall) {
      while (!interrupted_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return ReadOutcome::kInterrupted;
    }
    if (!s_.error.empty()) return Status::Error("scripted: " + s_.error);
    return ReadOutcome::kEnd;
  }
  Status Convert(Image* image) override {
    if (s_.undecodable.count(next_ - 1)) return Status::Error("bad frame");
    *image = Image{1, 1, 3, std::vector<uint8_t>(3, static_cast<uint8_t>((next_ - 1) % 256))};
    return Status::Ok();
  }
  int64_t corrupt_packets() const override { return 0; }
  void Interrupt() override { interrupted_.store(true); }

 private:
  Script s_;
  SourceInfo info_;
  int next_ = 0;
  std::atomic<bool> interrupted_{false};
};

FramePump::Opener OpenScript(const Script& s, std::atomic<int>* opens = nullptr) {
  return [s, opens]() -> Expected<std::unique_ptr<FrameSource>> {
    if (opens) opens->fetch_add(1);
    return std::unique_ptr<FrameSource>(new ScriptedSource(s));
  };
}

std::vector<VideoFrame> Drain(FramePump& pump, std::chrono::milliseconds per_frame = std::chrono::milliseconds(0)) {
  std::vector<VideoFrame> got;
  VideoFrame f;
  while (pump.Next(&f)) {
    got.push_back(f);
    std::this_thread::sleep_for(per_frame);
  }
  return got;
}

TEST(FramePump, FilesDeliverEveryFrameInOrder) {
  Script s;
  s.frames = 200;
  auto pump = FramePump::Start(OpenScript(s), PumpOptions{}, nullptr);
  ASSERT_TRUE(pump.ok()) << pump.status().message();
  const auto got = Drain(**pump);
  ASSERT_EQ(got.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(got[i].index, i);
    EXPECT_DOUBLE_EQ(got[i].time, i / 10.0);
    EXPECT_EQ(got[i].image.pixels[0], i % 256);
  }
  EXPECT_TRUE((*pump)->end_status().ok());
  EXPECT_EQ((*pump)->stats().read, 200);
  EXPECT_EQ((*pump)->stats().dropped, 0);
}

TEST(FramePump, LiveSourcesDropWhatInferenceCannotKeepUpWith) {
  // The scripted camera delivers 300 frames at once; "inference" takes 1 ms a frame.
  Script s;
  s.frames = 300;
  s.kind = SourceKind::kDevice;
  PumpOptions o;
  o.live = true;
  auto pump = FramePump::Start(OpenScript(s), o, nullptr);
  ASSERT_TRUE(pump.ok());
  const auto got = Drain(**pump, std::chrono::milliseconds(1));
  const PumpStats st = (*pump)->stats();
  EXPECT_EQ(st.read, 300);
  EXPECT_EQ(static_cast<int64_t>(got.size()) + st.dropped, st.read);
  EXPECT_GT(st.dropped, 0);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().index, 299);  // the newest frame is never the one dropped
  for (size_t i = 1; i < got.size(); ++i) EXPECT_GT(got[i].index, got[i - 1].index);
}

TEST(FramePump, MaxFpsKeepsFramesOnASteadyGrid) {
  // 30 fps for 2 s, at most 10 a second: frames 0, 3, 6, ... (times 0, 0.1, 0.2, ...).
  Script s;
  s.frames = 60;
  s.fps = 30;
  PumpOptions o;
  o.max_fps = 10;
  auto pump = FramePump::Start(OpenScript(s), o, nullptr);
  ASSERT_TRUE(pump.ok());
  const auto got = Drain(**pump);
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i].index, 3 * i);
  EXPECT_EQ((*pump)->stats().skipped, 40);
}

TEST(FramePump, UndecodableFramesAreCountedAndSkipped) {
  Script s;
  s.frames = 10;
  s.undecodable = {3, 7};
  auto pump = FramePump::Start(OpenScript(s), PumpOptions{}, nullptr);
  ASSERT_TRUE(pump.ok());
  const auto got = Drain(**pump);
  EXPECT_EQ(got.size(), 8u);
  EXPECT_EQ((*pump)->stats().undecodable, 2);
}

TEST(FramePump, AFailureWithoutReconnectEndsWithItsMessage) {
  Script s;
  s.frames = 5;
  s.kind = SourceKind::kNetwork;
  s.error = "no data for 10 s (stalled)";
  auto pump = FramePump::Start(OpenScript(s), PumpOptions{}, nullptr);
  ASSERT_TRUE(pump.ok());
  EXPECT_EQ(Drain(**pump).size(), 5u);
  EXPECT_EQ((*pump)->end_status().message(), "scripted: no data for 10 s (stalled)");
}

TEST(FramePump, ReconnectReopensAndTimesGoOn) {
  Script s;
  s.frames = 5;
  s.kind = SourceKind::kNetwork;
  s.error = "connection reset";
  PumpOptions o;
  o.reconnect = true;
  o.reconnect_delay = 0.01;
  std::atomic<int> opens{0};
  std::vector<std::string> messages;
  std::mutex mu;
  auto pump = FramePump::Start(OpenScript(s, &opens), o, [&](const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    messages.push_back(m);
  });
  ASSERT_TRUE(pump.ok());
  std::vector<VideoFrame> got;
  VideoFrame f;
  while (got.size() < 12 && (*pump)->Next(&f)) got.push_back(f);
  (*pump)->Stop();
  while ((*pump)->Next(&f)) {
  }
  ASSERT_EQ(got.size(), 12u);
  EXPECT_GE(opens.load(), 3);
  EXPECT_GE((*pump)->stats().reconnects, 2);
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_GT(got[i].time, got[i - 1].time) << i;
    EXPECT_EQ(got[i].index, got[i - 1].index + 1);
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages[0], "scripted: connection reset; reconnecting in 0.01 s (attempt 1)");
  EXPECT_TRUE((*pump)->end_status().ok());
}

TEST(FramePump, StopInterruptsABlockedRead) {
  Script s;
  s.frames = 2;
  s.kind = SourceKind::kNetwork;
  s.stall = true;
  auto pump = FramePump::Start(OpenScript(s), PumpOptions{}, nullptr);
  ASSERT_TRUE(pump.ok());
  VideoFrame f;
  ASSERT_TRUE((*pump)->Next(&f));
  ASSERT_TRUE((*pump)->Next(&f));
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (*pump)->Stop();
  });
  EXPECT_FALSE((*pump)->Next(&f));
  stopper.join();
}

TEST(FramePump, AnInterruptFlagStopsThePump) {
  Script s;
  s.frames = 1;
  s.kind = SourceKind::kDevice;
  s.stall = true;
  std::atomic<bool> flag{false};
  PumpOptions o;
  o.interrupt = &flag;
  auto pump = FramePump::Start(OpenScript(s), o, nullptr);
  ASSERT_TRUE(pump.ok());
  VideoFrame f;
  ASSERT_TRUE((*pump)->Next(&f));
  flag.store(true);  // what the SIGINT handler does
  EXPECT_FALSE((*pump)->Next(&f));
}

}  // namespace
}  // namespace personcls::video
