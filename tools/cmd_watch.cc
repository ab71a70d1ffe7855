// personcls watch: person presence on a video file, a V4L2 camera, a network stream or
// images/MJPEG on stdin. The reading, decoding and event logic live in src/video; this
// file parses flags, runs each frame through the model and prints.
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "video/event_detector.h"
#include "video/frame_pump.h"
#include "video/overlay.h"
#include "video/video_writer.h"

namespace personcls::cli {

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

struct WatchArgs {
  ModelOptions model;
  std::string source;
  bool json = false, events_only = false, verbose = false, reconnect = false;
  std::optional<bool> live;
  double threshold = 0.5;
  std::optional<double> enter, leave;
  video::EventOptions events;
  double fps = 0, timeout = 10, input_fps = 0;
  std::string snapshots, out, format;
  std::vector<std::string> options;
};

// The Person probability of a binary model: class 1 of a SOFTMAX (or of two logits, through
// a softmax), a LOGISTIC output, or the sigmoid of a single logit.
double PersonProbability(const LoadedModel& model, const Prediction& p) {
  OpType last = OpType::kReshape;
  for (const OpDesc& op : model.graph->ops)
    if (op.outputs[0] == model.graph->outputs[0]) last = op.type;
  if (p.scores.size() == 1) return last == OpType::kLogistic ? p.scores[0] : 1.0 / (1.0 + std::exp(-static_cast<double>(p.scores[0])));
  if (last == OpType::kSoftmax) return p.scores[1];
  return 1.0 / (1.0 + std::exp(static_cast<double>(p.scores[0]) - p.scores[1]));
}

void PrintLine(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // a consumer of a live stream reads each line as it comes
}

struct Snapshot {
  Image image;
  double time = 0;
  int64_t frame = 0;
};

void Run(const WatchArgs& a) {
  video::EventOptions ev = a.events;
  ev.enter = a.enter.value_or(std::min(1.0, a.threshold + 0.1));
  ev.leave = a.leave.value_or(std::max(0.0, a.threshold - 0.1));
  if (!(a.threshold >= 0 && a.threshold <= 1)) throw CliError{fmt::format("--threshold {}: must be in [0, 1]", a.threshold)};
  if (Status s = video::ValidateEventOptions(ev); !s.ok()) throw CliError{s.message()};
  if (!(a.fps >= 0)) throw CliError{"--fps must be >= 0"};
  if (!(a.timeout > 0)) throw CliError{"--timeout must be > 0"};
  if (!(a.input_fps >= 0)) throw CliError{"--input-fps must be >= 0"};

  LoadedModel model = LoadModelOrThrow(a.model);
  const int64_t classes = model.interpreter->output_desc(0).num_elements();
  if (classes != 1 && classes != 2)
    throw CliError{fmt::format("watch needs a binary person model (2 outputs, or 1); this one has {} outputs", classes)};

  video::SourceOptions so;
  so.format = a.format;
  for (const std::string& kv : a.options) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw CliError{fmt::format("--option '{}': expected KEY=VALUE", kv)};
    so.options.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  so.timeout = a.timeout;
  so.input_fps = a.input_fps;
  so.interrupt = &g_interrupted;
  so.warn = [](const std::string& m) { fmt::print(stderr, "personcls: warning: {}\n", m); };
  video::SetFfmpegLogging(a.verbose);

  const video::SourceKind kind = video::ClassifySource(a.source);
  const bool live_kind = kind == video::SourceKind::kNetwork || kind == video::SourceKind::kDevice;
  if (a.reconnect && !live_kind) throw CliError{fmt::format("--reconnect: {} is not a network stream or a device", a.source)};
  video::PumpOptions po;
  po.live = a.live.value_or(live_kind);
  po.pace = po.live && kind == video::SourceKind::kFile;  // a file watched --live plays at its own rate
  po.reconnect = a.reconnect;
  po.max_fps = a.fps;
  po.interrupt = &g_interrupted;

  if (!a.snapshots.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.snapshots, ec);
    if (ec) throw CliError{fmt::format("{}: cannot create directory: {}", a.snapshots, ec.message())};
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  const auto start = std::chrono::steady_clock::now();
  auto pump = video::FramePump::Start([&] { return video::OpenSource(a.source, so); }, po,
                                      [](const std::string& m) { fmt::print(stderr, "personcls: {}\n", m); });
  if (!pump.ok()) throw CliError{pump.status().message()};
  const video::SourceInfo& info = (*pump)->info();

  video::EventDetector detector(ev);
  std::unique_ptr<video::VideoWriter> writer;
  Snapshot onset;
  std::string failure;
  int64_t processed = 0, events = 0;
  double first_time = 0, last_time = 0, infer_seconds = 0;
  int width = info.width, height = info.height;  // image streams: known from the first frame
  video::VideoFrame frame;
  while (failure.empty() && (*pump)->Next(&frame)) {
    const auto t0 = std::chrono::steady_clock::now();
    auto p = ClassifyImage(model, frame.image, fmt::format("{} frame {}", a.source, frame.index));
    infer_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!p.ok()) {
      failure = p.status().message();
      break;
    }
    if (processed++ == 0) {
      first_time = frame.time;
      width = frame.image.width, height = frame.image.height;
    }
    last_time = frame.time;
    const double score = PersonProbability(model, *p);
    const bool decision = score > a.threshold;
    const video::DetectorStep step = detector.Update(frame.time, frame.index, score);
    if (step.onset_started && !a.snapshots.empty()) onset = {frame.image, frame.time, frame.index};
    if (!a.events_only) {
      if (a.json) {
        nlohmann::json j{{"frame", frame.index}, {"time", frame.time},    {"score", score},   {"smoothed", step.smoothed},
                         {"label", model.labels[decision ? 1 : 0]},       {"argmax", p->label}, {"present", step.present},
                         {"scores", p->scores}};
        PrintLine(j.dump());
      } else {
        PrintLine(fmt::format("{:9.3f}s  frame {:<6} {:<13} {:.4f}  smoothed {:.4f}", frame.time, frame.index,
                              model.labels[decision ? 1 : 0], score, step.smoothed));
      }
    }
    if (step.event) {
      const video::Event& e = *step.event;
      ++events;
      std::string snapshot;
      if (!a.snapshots.empty()) {
        snapshot = (std::filesystem::path(a.snapshots) / fmt::format("event-{:04d}-{}-{:.3f}s.png", events, video::EventName(e.type), e.time)).string();
        // The frame at the event's time: the onset frame kept above (this frame if none).
        const Image& img = onset.frame == e.frame && !onset.image.pixels.empty() ? onset.image : frame.image;
        if (Status s = WritePng(snapshot, img); !s.ok()) {
          failure = s.message();
          break;
        }
      }
      if (a.json) {
        nlohmann::json j{{"event", video::EventName(e.type)}, {"time", e.time},   {"frame", e.frame},
                         {"score", e.score}, {"confirmed_time", e.confirmed_time}, {"confirmed_frame", e.confirmed_frame}};
        if (!snapshot.empty()) j["snapshot"] = snapshot;
        PrintLine(j.dump());
      } else {
        PrintLine(fmt::format("{:9.3f}s  person {} (frame {}; smoothed score {:.4f} at {:.3f}s){}", e.time, video::EventName(e.type), e.frame,
                              e.score, e.confirmed_time, snapshot.empty() ? "" : "  snapshot " + snapshot));
      }
    }
    if (!a.out.empty()) {
      if (!writer) {
        video::WriterOptions wo;
        wo.fps = info.fps > 0 ? info.fps : 25;
        auto w = video::VideoWriter::Open(a.out, frame.image.width, frame.image.height, wo);
        if (!w.ok()) {
          failure = w.status().message();
          break;
        }
        writer = std::move(w).value();
      }
      Image annotated = frame.image;
      video::DrawOverlay(&annotated, {score, step.smoothed, decision, step.present, ev.enter, ev.leave});
      if (Status s = writer->Write(annotated, frame.time); !s.ok()) failure = s.message();
    }
  }
  (*pump)->Stop();
  if (writer && failure.empty())
    if (Status s = writer->Close(); !s.ok()) failure = s.message();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const video::PumpStats st = (*pump)->stats();
  const Status end = failure.empty() ? (*pump)->end_status() : Status::Error(failure);
  // The video covered runs to the end of the last frame processed.
  const double end_time = last_time + (info.fps > 0 ? 1.0 / info.fps : 0.0);
  const double present = processed ? detector.PresentSeconds(end_time) : 0.0;
  const double covered = processed ? end_time - first_time : 0.0;
  const char* ended = g_interrupted.load() ? "interrupted" : end.ok() ? "end of source" : "error";
  if (a.json) {
    nlohmann::json s{{"source", a.source},       {"kind", video::SourceKindName(info.kind)},
                     {"format", info.format},    {"codec", info.codec},
                     {"width", width},           {"height", height},
                     {"frames_read", st.read},   {"frames_processed", processed},
                     {"frames_skipped", st.skipped}, {"frames_dropped", st.dropped},
                     {"frames_undecodable", st.undecodable}, {"corrupt_packets", st.corrupt},
                     {"reconnects", st.reconnects}, {"video_seconds", covered},
                     {"wall_seconds", wall},     {"fps", processed / wall},
                     {"inference_ms", processed ? 1000 * infer_seconds / processed : 0.0},
                     {"present_seconds", present}, {"events", events},
                     {"present_at_end", detector.present()}, {"ended", ended},
                     {"threshold", a.threshold}, {"enter", ev.enter}, {"leave", ev.leave}, {"smooth", ev.smooth},
                     {"min_present", ev.min_present}, {"min_absent", ev.min_absent}};
    PrintLine(nlohmann::json{{"summary", s}}.dump());
  } else {
    PrintLine(fmt::format("summary: {} frames read, {} processed, {} skipped (--fps), {} dropped (inference behind), {} undecodable, {} corrupt packets; "
                          "{:.2f} s of video in {:.2f} s ({:.1f} frames/s, {:.2f} ms inference per frame); person present {:.2f} s ({:.1f} %){}; {} events; "
                          "{}{}",
                          st.read, processed, st.skipped, st.dropped, st.undecodable, st.corrupt, covered, wall, processed / wall,
                          processed ? 1000 * infer_seconds / processed : 0.0, present, covered > 0 ? 100 * present / covered : 0.0,
                          detector.present() ? ", still present at the end" : "", events, ended,
                          st.reconnects ? fmt::format(", {} reconnects", st.reconnects) : ""));
  }
  if (!end.ok()) throw CliError{end.message()};
}

}  // namespace

void RegisterWatch(CLI::App& app) {
  auto a = std::make_shared<WatchArgs>();
  CLI::App* cmd = app.add_subcommand("watch", "Person presence on a video: file, V4L2 camera, RTSP/HTTP stream, or images/MJPEG on stdin ('-')");
  AddModelOptions(*cmd, a->model, true, /*model_required=*/false);
  cmd->add_option("source", a->source, "Video file, /dev/videoN, URL (rtsp://, http://, ...) or - for stdin")->required();
  cmd->add_flag("--json", a->json, "JSON lines: one per frame {frame,time,score,smoothed,label,argmax,present,scores}, per event {event,time,...}, and a summary");
  cmd->add_flag("--events-only", a->events_only, "Print events (and the summary), not every frame");
  cmd->add_option("--threshold", a->threshold, "Per-frame decision: Person when the Person score exceeds T")->capture_default_str();
  cmd->add_option("--enter", a->enter, "Events: a person appears when the smoothed score reaches E (default: threshold + 0.1)");
  cmd->add_option("--leave", a->leave, "Events: the person leaves when the smoothed score falls below L (default: threshold - 0.1)");
  cmd->add_option("--smooth", a->events.smooth, "Events: time constant of the score's moving average, seconds (0: none)")->capture_default_str();
  cmd->add_option("--min-present", a->events.min_present, "Events: seconds a presence must last to be reported")->capture_default_str();
  cmd->add_option("--min-absent", a->events.min_absent, "Events: seconds an absence must last to be reported")->capture_default_str();
  cmd->add_option("--fps", a->fps, "Process at most N frames per second of video (0: every frame)");
  cmd->add_option("--snapshots", a->snapshots, "Save the frame at each event as DIR/event-NNNN-<appeared|left>-<time>s.png");
  cmd->add_option("--out", a->out, "Write the processed frames, score drawn on them, as a video (.mp4, .mkv, .avi, ...)");
  cmd->add_flag("--live,!--no-live", a->live,
                "Live: drop frames when inference falls behind (default for devices and network streams); a file is then played at its own rate");
  cmd->add_flag("--reconnect", a->reconnect, "Network streams and devices: reopen after the stream ends, fails or stalls");
  cmd->add_option("--timeout", a->timeout, "Seconds without data before a stream (or stdin) counts as stalled")->capture_default_str();
  cmd->add_option("--format", a->format, "FFmpeg input format (e.g. mjpeg, v4l2, mpjpeg); default: probed");
  cmd->add_option("--option", a->options, "FFmpeg input option KEY=VALUE (repeatable), e.g. video_size=640x480, input_format=mjpeg, rtsp_transport=tcp");
  cmd->add_option("--input-fps", a->input_fps, "Frame rate that times image streams on stdin (default: FFmpeg's 25)");
  cmd->add_flag("--verbose", a->verbose, "Show FFmpeg's own log on stderr");
  cmd->callback([a] { Run(*a); });
}

}  // namespace personcls::cli
