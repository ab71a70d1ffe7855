// `personcls watch` end to end with the embedded default model, on media made here:
// people appear, leave and reappear at known times in videos encoded with libavcodec
// (lossless and H.264), in an MJPEG stream on stdin and over HTTP from a loopback server;
// plus truncated and corrupted files, stalls, reconnects, dropping and --fps.
//
// The two frames are chosen at test time, so the test survives a retrained default model:
// among 10 person and 10 non-person vww01-dev images, the ones `classify` finds most
// confidently Person (score >= 0.8) and Not a person (<= 0.2). Per-frame scores are then
// compared with `classify` on the same pixels.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "data/image_encoders.h"
#include "test_util.h"
#include "tools/cli_run.h"
#include "video/cli_process.h"
#include "video/video_test_util.h"

namespace personcls {
namespace {

using nlohmann::json;
using testing::RunCli;
using testing::RunResult;

constexpr int kW = 160, kH = 120, kFrames = 110;
constexpr double kFps = 10;
// Person in frames [20, 50) and [70, 90), plus a one-frame flicker at 10 that is no event.
bool PersonAt(int i) { return i == 10 || (i >= 20 && i < 50) || (i >= 70 && i < 90); }
const std::vector<std::pair<std::string, double>> kEvents = {{"appeared", 2.0}, {"left", 5.0}, {"appeared", 7.0}, {"left", 9.0}};

struct Output {
  std::vector<json> frames, events;
  json summary;
};

Output Parse(const std::string& out) {
  Output o;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    if (j.contains("summary")) o.summary = j["summary"];
    else if (j.contains("event")) o.events.push_back(j);
    else o.frames.push_back(j);
  }
  return o;
}

class WatchCli : public ::testing::Test {
 protected:
  struct Chosen {
    Image person, nobody;              // kW x kH frames
    json person_png, nobody_png;       // classify's scores of them as PNG
    json person_jpg, nobody_jpg;       // and as the JPEGs of the MJPEG streams
    std::vector<uint8_t> person_jpeg, nobody_jpeg;
    std::string dir;
  };
  static Chosen* chosen_;

  // The media depend on the personcls binary (its default model) and on this test binary
  // (the timeline): made once per pair, in a folder named after both, and reused by the
  // other test processes (ctest runs each test in its own).
  static std::string MediaStamp() {
    auto id = [](const std::string& path) {
      struct stat st {};
      stat(path.c_str(), &st);
      return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    };
    char self[4096] = {};
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    const std::string ids = id(std::string(PERSONCLS_BINARY_DIR) + "/personcls") + "/" + id(n > 0 ? std::string(self, n) : "");
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016zx", std::hash<std::string>{}(ids));
    return hex;
  }

  // Chooses the frames and writes the media into `dir` (scores.json last).
  static void MakeMedia(const std::string& dir) {
    // 10 images of each class, scored by classify.
    std::ifstream labels(testing::SharedPath("data/vww01-dev/labels.csv"));
    std::string line, files;
    std::map<std::string, int> label_of;
    int counts[2] = {0, 0};
    while (std::getline(labels, line)) {
      const size_t comma = line.find(',');
      if (comma == std::string::npos || line.compare(0, 4, "file") == 0) continue;
      const int label = line[comma + 1] - '0';
      if (counts[label] >= 10) continue;
      ++counts[label];
      const std::string path = testing::SharedPath("data/vww01-dev/" + line.substr(0, comma));
      label_of[path] = label;
      files += " " + path;
    }
    const RunResult r = RunCli("classify --json" + files);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string best[2];
    double best_score[2] = {2, -1};  // [0]: lowest Person score of non-persons; [1]: highest of persons
    for (const json& p : json::parse(r.out)) {
      const double s = p["scores"][1];
      const int label = label_of[p["file"]];
      if (label == 1 ? s > best_score[1] : s < best_score[0]) best_score[label] = s, best[label] = p["file"];
    }
    ASSERT_GE(best_score[1], 0.8) << "no confidently-person image among 10 for the default model";
    ASSERT_LE(best_score[0], 0.2) << "no confidently-empty image among 10 for the default model";
    const Image person = ResizeBilinear(LoadImage(best[1]).value(), kW, kH);
    const Image nobody = ResizeBilinear(LoadImage(best[0]).value(), kW, kH);
    ASSERT_TRUE(WritePng(dir + "/person.png", person).ok());
    ASSERT_TRUE(WritePng(dir + "/nobody.png", nobody).ok());
    const auto person_jpeg = testing::EncodeJpeg(person, testing::JpegQ(90));
    const auto nobody_jpeg = testing::EncodeJpeg(nobody, testing::JpegQ(90));
    testing::WriteFileBytes(dir + "/person.jpg", person_jpeg);
    testing::WriteFileBytes(dir + "/nobody.jpg", nobody_jpeg);
    // Lossless video (FFV1, RGB) and H.264 of the timeline, and the MJPEG stream.
    std::vector<Image> frames;
    std::vector<uint8_t> mjpeg;
    for (int i = 0; i < kFrames; ++i) {
      frames.push_back(PersonAt(i) ? person : nobody);
      const auto& jpeg = PersonAt(i) ? person_jpeg : nobody_jpeg;
      mjpeg.insert(mjpeg.end(), jpeg.begin(), jpeg.end());
    }
    video::WriterOptions lossless;
    lossless.codec = "ffv1";
    lossless.pixel_format = "bgr0";
    testing::WriteVideo(dir + "/timeline.mkv", frames, kFps, lossless);
    testing::WriteVideo(dir + "/timeline.mp4", frames, kFps);
    testing::WriteFileBytes(dir + "/timeline.mjpg", mjpeg);
    // classify's scores of the frames as PNG and as the JPEGs of the MJPEG streams.
    const RunResult ref = RunCli("classify --json " + dir + "/person.png " + dir + "/nobody.png " + dir + "/person.jpg " + dir + "/nobody.jpg");
    ASSERT_EQ(ref.exit_code, 0) << ref.err;
    const json j = json::parse(ref.out);
    const json scores{{"person_png", j[0]["scores"]}, {"nobody_png", j[1]["scores"]}, {"person_jpg", j[2]["scores"]}, {"nobody_jpg", j[3]["scores"]}};
    std::ofstream(dir + "/scores.json") << scores.dump();
  }

  // Run from the first test's SetUp (RunCli needs a running test), once per process.
  static void Prepare() {
    auto c = std::make_unique<Chosen>();
    c->dir = std::string(PERSONCLS_BINARY_DIR) + "/test_tmp/WatchCli.media-" + MediaStamp();
    if (!testing::FileExists(c->dir + "/scores.json")) {
      const std::string tmp = c->dir + ".tmp" + std::to_string(getpid());
      std::filesystem::remove_all(tmp);
      std::filesystem::create_directories(tmp);
      MakeMedia(tmp);
      if (::testing::Test::HasFatalFailure()) return;
      std::error_code ec;
      std::filesystem::rename(tmp, c->dir, ec);  // fails when another process got there first
      if (ec) std::filesystem::remove_all(tmp);
    }
    c->person = LoadImage(c->dir + "/person.png").value();
    c->nobody = LoadImage(c->dir + "/nobody.png").value();
    c->person_jpeg = testing::ReadFileBytes(c->dir + "/person.jpg");
    c->nobody_jpeg = testing::ReadFileBytes(c->dir + "/nobody.jpg");
    std::ifstream in(c->dir + "/scores.json");
    const json scores = json::parse(in);
    c->person_png = scores["person_png"], c->nobody_png = scores["nobody_png"];
    c->person_jpg = scores["person_jpg"], c->nobody_jpg = scores["nobody_jpg"];
    chosen_ = c.release();
  }
  static void TearDownTestSuite() {
    delete chosen_;
    chosen_ = nullptr;
  }
  void SetUp() override {
    PCLS_REQUIRE_SHARED("data/vww01-dev/labels.csv");
    static bool attempted = false;
    if (!attempted) {
      attempted = true;
      Prepare();
    }
    ASSERT_NE(chosen_, nullptr) << "the suite's media could not be made (see the first test)";
  }
  static std::string Media(const std::string& name) { return chosen_->dir + "/" + name; }

  // Frame i's scores must be classify's on the same pixels.
  static void ExpectClassifyScores(const Output& o, const json& person, const json& nobody, int expected_frames = kFrames) {
    ASSERT_EQ(static_cast<int>(o.frames.size()), expected_frames);
    for (const json& f : o.frames) {
      const int i = f["frame"];
      EXPECT_EQ(f["scores"], PersonAt(i) ? person : nobody) << "frame " << i;
      const double score = f["score"];
      EXPECT_EQ(f["label"], score > 0.5 ? "Person" : "Not a person") << "frame " << i;
      EXPECT_TRUE(f.contains("argmax") && f.contains("smoothed") && f.contains("present"));
    }
  }
  // The four events, at the frames where the scene changed, times within `tolerance`.
  static void ExpectTimelineEvents(const Output& o, double tolerance) {
    ASSERT_EQ(o.events.size(), kEvents.size()) << o.summary.dump();
    for (size_t k = 0; k < kEvents.size(); ++k) {
      EXPECT_EQ(o.events[k]["event"], kEvents[k].first) << k;
      EXPECT_NEAR(o.events[k]["time"].get<double>(), kEvents[k].second, tolerance) << k;
      EXPECT_GE(o.events[k]["confirmed_time"].get<double>(), o.events[k]["time"].get<double>());
      EXPECT_TRUE(o.events[k].contains("score"));
    }
  }
};
WatchCli::Chosen* WatchCli::chosen_ = nullptr;

TEST_F(WatchCli, LosslessVideoScoresEqualClassifyAndEventsFallOnTheExactFrames) {
  const RunResult r = RunCli("watch --json " + Media("timeline.mkv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const Output o = Parse(r.out);
  ExpectClassifyScores(o, chosen_->person_png, chosen_->nobody_png);
  for (int i = 0; i < kFrames; ++i) EXPECT_NEAR(o.frames[i]["time"].get<double>(), i / kFps, 1e-9);
  ExpectTimelineEvents(o, 1e-9);
  const std::vector<int> event_frames = {20, 50, 70, 90};
  for (size_t k = 0; k < event_frames.size(); ++k) EXPECT_EQ(o.events[k]["frame"], event_frames[k]);
  const json& s = o.summary;
  EXPECT_EQ(s["frames_read"], kFrames);
  EXPECT_EQ(s["frames_processed"], kFrames);
  EXPECT_EQ(s["frames_dropped"], 0);
  EXPECT_EQ(s["events"], 4);
  EXPECT_NEAR(s["present_seconds"].get<double>(), 5.0, 1e-9);  // 2-5 s and 7-9 s
  EXPECT_NEAR(s["video_seconds"].get<double>(), 11.0, 1e-9);
  EXPECT_EQ(s["ended"], "end of source");
  EXPECT_EQ(s["codec"], "ffv1");
  EXPECT_DOUBLE_EQ(s["enter"].get<double>(), 0.6);  // threshold 0.5 + 0.1
  EXPECT_DOUBLE_EQ(s["leave"].get<double>(), 0.4);
  EXPECT_GT(s["fps"].get<double>(), 0);
}

TEST_F(WatchCli, H264VideoEventsWithinOneFrameWithSnapshotsAndAnnotatedOutput) {
  const std::string dir = testing::TempDir();
  const RunResult r = RunCli("watch --json --events-only --snapshots " + dir + "/snaps --out " + dir + "/annotated.mkv " + Media("timeline.mp4"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Output o = Parse(r.out);
  EXPECT_TRUE(o.frames.empty());  // --events-only
  ExpectTimelineEvents(o, 1 / kFps + 1e-9);
  // One snapshot per event: the frame at the event's time.
  for (size_t k = 0; k < o.events.size(); ++k) {
    ASSERT_TRUE(o.events[k].contains("snapshot"));
    const std::string path = o.events[k]["snapshot"];
    EXPECT_NE(path.find(kEvents[k].first), std::string::npos) << path;
    auto snap = LoadImage(path);
    ASSERT_TRUE(snap.ok()) << snap.status().message();
    const Image& want = kEvents[k].first == "appeared" ? chosen_->person : chosen_->nobody;
    const Image& other = kEvents[k].first == "appeared" ? chosen_->nobody : chosen_->person;
    auto diff = [](const Image& a, const Image& b) {
      double d = 0;
      for (size_t i = 0; i < a.pixels.size(); ++i) d += std::abs(a.pixels[i] - b.pixels[i]);
      return d / a.pixels.size();
    };
    EXPECT_LT(diff(*snap, want), diff(*snap, other)) << path;
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir + "/snaps"), std::filesystem::directory_iterator()), 4);
  // The annotated video has every frame, with the score bar drawn: green where the frame
  // was decided Person, red where not.
  const auto annotated = testing::ReadAllFrames(dir + "/annotated.mkv");
  ASSERT_TRUE(annotated.end.ok()) << annotated.end.message();
  ASSERT_EQ(annotated.frames.size(), static_cast<size_t>(kFrames));
  for (int i : {5, 30, 60, 80}) {
    const Image& img = annotated.frames[i].image;
    const uint8_t* px = &img.pixels[(static_cast<size_t>(kH - 3) * kW + 4) * 3];  // in the bar, left end
    if (PersonAt(i))
      EXPECT_GT(px[1], px[0] + 60) << "frame " << i;
    else
      EXPECT_GT(px[0], px[1] + 60) << "frame " << i;
  }
}

TEST_F(WatchCli, TextOutputHasFrameAndEventLinesAndASummary) {
  const RunResult r = RunCli("watch " + Media("timeline.mkv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kFrames + 4 + 1));
  EXPECT_EQ(lines[0].find("    0.000s  frame 0      Not a person"), 0u) << lines[0];
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("person appeared") != std::string::npos; }), 2);
  EXPECT_EQ(lines.back().rfind("summary: 110 frames read, 110 processed, 0 skipped (--fps), 0 dropped", 0), 0u) << lines.back();
  EXPECT_NE(lines.back().find("person present 5.00 s"), std::string::npos) << lines.back();
}

TEST_F(WatchCli, MjpegOnStdinScoresEqualClassifyOfEachJpeg) {
  const RunResult r = RunCli("watch --json --input-fps 10 - < " + Media("timeline.mjpg"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Output o = Parse(r.out);
  ExpectClassifyScores(o, chosen_->person_jpg, chosen_->nobody_jpg);
  for (int i = 0; i < kFrames; ++i) EXPECT_NEAR(o.frames[i]["time"].get<double>(), i / kFps, 1e-9);
  ExpectTimelineEvents(o, 1e-9);
  EXPECT_EQ(o.summary["kind"], "stdin");
  EXPECT_EQ(o.summary["width"], kW);
  EXPECT_EQ(o.summary["height"], kH);
}

TEST_F(WatchCli, MjpegOverHttpFromALoopbackCamera) {
  testing::LoopbackHttpServer server([&](int, int fd) {
    if (!testing::SendMjpegHeader(fd)) return;
    for (int i = 0; i < kFrames; ++i)
      if (!testing::SendMjpegPart(fd, PersonAt(i) ? chosen_->person_jpeg : chosen_->nobody_jpeg)) return;
  });
  // --no-live: every frame, so the comparison is exact whatever the machine's speed. The
  // parts carry no timestamps, so frames are timed by arrival (here: a burst); without
  // smoothing and minimum durations every change of decision is an event, at its frame.
  const RunResult r = RunCli("watch --json --no-live --smooth 0 --min-present 0 --min-absent 0 " + server.url());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("the stream ended"), std::string::npos) << r.err;
  const Output o = Parse(r.out);
  ExpectClassifyScores(o, chosen_->person_jpg, chosen_->nobody_jpg);
  const std::vector<int> event_frames = {10, 11, 20, 50, 70, 90};
  ASSERT_EQ(o.events.size(), event_frames.size());
  for (size_t k = 0; k < event_frames.size(); ++k) {
    EXPECT_EQ(o.events[k]["frame"], event_frames[k]);
    EXPECT_EQ(o.events[k]["event"], k % 2 ? "left" : "appeared");
  }
  EXPECT_EQ(o.summary["kind"], "network");
}

// Serves `frames` JPEGs, then keeps the connection open without sending (a stalled camera)
// until the client goes away or the server stops.
void ServeThenStall(int fd, const std::vector<uint8_t>& jpeg, int frames, const testing::LoopbackHttpServer& server) {
  if (!testing::SendMjpegHeader(fd)) return;
  for (int i = 0; i < frames; ++i)
    if (!testing::SendMjpegPart(fd, jpeg)) return;
  char c;
  while (!server.stopping()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) > 0 && recv(fd, &c, 1, 0) <= 0) return;
  }
}

TEST_F(WatchCli, AStalledStreamEndsWithAClearErrorAndTheSummary) {
  std::unique_ptr<testing::LoopbackHttpServer> server;
  server = std::make_unique<testing::LoopbackHttpServer>([&](int, int fd) { ServeThenStall(fd, chosen_->person_jpeg, 5, *server); });
  const RunResult r = RunCli("watch --json --timeout 0.5 " + server->url());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "personcls: error: " + server->url() + ": no data for 0.5 s (stalled)\n");
  const Output o = Parse(r.out);
  EXPECT_EQ(o.summary["ended"], "error");
  EXPECT_GE(o.summary["frames_read"].get<int>(), 4);  // the last part may wait for its boundary
}

TEST_F(WatchCli, ReconnectResumesAfterAStallAndSigintEndsWithTheSummary) {
  std::unique_ptr<testing::LoopbackHttpServer> server;
  server = std::make_unique<testing::LoopbackHttpServer>([&](int connection, int fd) {
    if (connection == 0) return ServeThenStall(fd, chosen_->nobody_jpeg, 5, *server);
    if (!testing::SendMjpegHeader(fd)) return;
    while (!server->stopping() && testing::SendMjpegPart(fd, chosen_->person_jpeg)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  const std::string dir = testing::TempDir();
  testing::CliProcess watch({"watch", "--json", "--reconnect", "--timeout", "0.5", server->url()}, dir + "/err");
  int frames = 0;
  // 5 frames, the stall, then the person for 0.5 s (min_present) at 50 fps and a little more.
  const bool enough = watch.ReadUntil([&](const std::string& line) { return line.find("\"frame\"") != std::string::npos && ++frames >= 5 + 35; }, 30);
  watch.Signal(SIGINT);
  const int code = watch.Wait();
  ASSERT_TRUE(enough) << watch.err;
  EXPECT_EQ(code, 0) << watch.err;
  EXPECT_NE(watch.err.find(": no data for 0.5 s (stalled); reconnecting in 1 s (attempt 1)"), std::string::npos) << watch.err;
  EXPECT_NE(watch.err.find(": reconnected"), std::string::npos) << watch.err;
  ASSERT_FALSE(watch.lines.empty());
  const json s = json::parse(watch.lines.back())["summary"];
  EXPECT_EQ(s["ended"], "interrupted");
  EXPECT_GE(s["reconnects"].get<int>(), 1);
  EXPECT_GE(s["events"].get<int>(), 1);  // the person of the second connection appeared
  // Times keep increasing across the reconnect.
  double last = -1;
  for (const std::string& line : watch.lines) {
    const json j = json::parse(line);
    if (!j.contains("frame") || j.contains("event")) continue;
    EXPECT_GT(j["time"].get<double>(), last);
    last = j["time"];
  }
}

TEST_F(WatchCli, TruncatedFilesEndCleanlyWithTheirSummary) {
  const std::string dir = testing::TempDir();
  for (const std::string name : {"timeline.mkv", "timeline.mp4"}) {
    const std::string path = dir + "/cut-" + name;
    std::filesystem::copy_file(Media(name), path);
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    const RunResult r = RunCli("watch --json --events-only " + path);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    const Output o = Parse(r.out);
    ASSERT_TRUE(o.summary.is_object()) << name << ": " << r.out;
    EXPECT_EQ(o.summary["ended"], "end of source");
    EXPECT_GT(o.summary["frames_processed"].get<int>(), 10) << name;
    EXPECT_LT(o.summary["frames_processed"].get<int>(), kFrames) << name;
  }
}

TEST_F(WatchCli, CorruptedVideoGoesOnWithWarningsAndCounts) {
  const std::string path = testing::TempDir() + "/damaged.mp4";
  auto bytes = testing::ReadFileBytes(Media("timeline.mp4"));
  uint32_t state = 7;
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 1500; ++i) {
    state = state * 1664525u + 1013904223u;
    bytes[i] = static_cast<uint8_t>(state >> 24);
  }
  testing::WriteFileBytes(path, bytes);
  const RunResult r = RunCli("watch --json --events-only " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const Output o = Parse(r.out);
  ASSERT_TRUE(o.summary.is_object()) << r.out;
  EXPECT_GT(o.summary["corrupt_packets"].get<int>(), 0) << r.err;
  EXPECT_GT(o.summary["frames_processed"].get<int>(), kFrames / 2);
  EXPECT_EQ(r.err.rfind("personcls: warning: " + path + ": ", 0), 0u) << r.err;
}

TEST_F(WatchCli, LiveSourcesDropFramesWhenInferenceFallsBehind) {
  // 100 frames 1 ms apart, played at their own rate (--live), through the reference kernels:
  // inference cannot keep up, so frames are dropped, and counted.
  const std::string path = testing::TempDir() + "/fast.mkv";
  std::vector<Image> frames(100, chosen_->nobody);
  video::WriterOptions o;
  o.codec = "ffv1";
  o.pixel_format = "bgr0";
  testing::WriteVideo(path, frames, 1000, o);
  const RunResult r = RunCli("watch --json --events-only --live --kernels ref " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json s = Parse(r.out).summary;
  EXPECT_EQ(s["frames_read"], 100);
  EXPECT_GT(s["frames_dropped"].get<int>(), 0);
  EXPECT_EQ(s["frames_processed"].get<int>() + s["frames_dropped"].get<int>(), 100);
}

TEST_F(WatchCli, FpsProcessesEveryOtherFrameOfATenFpsVideo) {
  const RunResult r = RunCli("watch --json --fps 5 " + Media("timeline.mkv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Output o = Parse(r.out);
  ASSERT_EQ(o.frames.size(), static_cast<size_t>(kFrames / 2));
  for (size_t k = 0; k < o.frames.size(); ++k) EXPECT_EQ(o.frames[k]["frame"], 2 * k);
  EXPECT_EQ(o.summary["frames_skipped"], kFrames / 2);
  ExpectTimelineEvents(o, 1e-9);  // the boundaries fall on even frames
}

TEST_F(WatchCli, BadRequestsGetOneLineErrors) {
  const std::string dir = testing::TempDir();
  testing::ExpectCliError(RunCli("watch " + dir + "/missing.mp4"), dir + "/missing.mp4: cannot open: No such file or directory");
  testing::ExpectCliError(RunCli("watch --reconnect " + Media("timeline.mkv")), "is not a network stream or a device");
  testing::ExpectCliError(RunCli("watch --enter 0.3 --leave 0.5 " + Media("timeline.mkv")), "hysteresis needs leave <= enter");
  testing::ExpectCliError(RunCli("watch --option novalue " + Media("timeline.mkv")), "--option 'novalue': expected KEY=VALUE");
  testing::ExpectCliError(RunCli("watch --format nosuchformat " + Media("timeline.mkv")), "unknown input format 'nosuchformat'");
  testing::ExpectCliError(RunCli("watch - < /dev/null"), "-: nothing on stdin");
  const RunResult out = RunCli("watch --json --events-only --out " + dir + "/x.nosuchext " + Media("timeline.mkv"));
  testing::ExpectCliError(out, "no video container for this file name");
  if (testing::FileExists(testing::SharedPath("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite")))
    testing::ExpectCliError(RunCli("watch --model " + testing::SharedPath("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite") + " " + Media("timeline.mkv")),
                            "watch needs a binary person model");
}

}  // namespace
}  // namespace personcls
