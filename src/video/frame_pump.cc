#include "video/frame_pump.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/core.h>

namespace personcls::video {

namespace {
using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
constexpr double kMaxReconnectDelay = 30;
}  // namespace

FramePump::FramePump(Opener open, const PumpOptions& options, MessageFn message)
    : open_(std::move(open)),
      options_(options),
      message_(std::move(message)),
      queue_(static_cast<size_t>(std::max(1, options.live ? options.live_queue_frames : options.queue_frames)),
             options.live ? BoundedQueue<VideoFrame>::Full::kDropOldest : BoundedQueue<VideoFrame>::Full::kBlock) {}

Expected<std::unique_ptr<FramePump>> FramePump::Start(Opener open, const PumpOptions& options, MessageFn message) {
  std::unique_ptr<FramePump> pump(new FramePump(std::move(open), options, std::move(message)));
  auto source = pump->open_();
  if (!source.ok()) return source.status();
  pump->info_ = (*source)->info();
  pump->current_ = source->get();
  pump->thread_ = std::thread(&FramePump::Run, pump.get(), std::move(source).value());
  return pump;
}

FramePump::~FramePump() {
  Stop();
  queue_.Cancel();
  if (thread_.joinable()) thread_.join();
}

void FramePump::Stop() {
  stop_.store(true);
  std::lock_guard<std::mutex> lock(mu_);
  if (current_) current_->Interrupt();
}

bool FramePump::Next(VideoFrame* frame) {
  for (;;) {
    switch (queue_.Pop(frame, std::chrono::milliseconds(100))) {
      case BoundedQueue<VideoFrame>::PopResult::kItem: return true;
      case BoundedQueue<VideoFrame>::PopResult::kClosed: return false;
      case BoundedQueue<VideoFrame>::PopResult::kTimeout:
        if (stopped()) Stop();  // the reader sees it and closes the queue
        break;
    }
  }
}

PumpStats FramePump::stats() const {
  PumpStats s;
  s.read = read_.load();
  s.skipped = skipped_.load();
  s.dropped = dropped_.load();
  s.undecodable = undecodable_.load();
  s.corrupt = corrupt_.load();
  s.reconnects = reconnects_.load();
  return s;
}

Status FramePump::end_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return end_status_;
}

bool FramePump::SleepUnlessStopped(double seconds) {
  const auto until = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  while (!stopped()) {
    const auto now = Clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
  return false;
}

std::unique_ptr<FrameSource> FramePump::Reconnect(const std::string& why) {
  double delay = options_.reconnect_delay;
  std::string reason = why;
  for (int attempt = 1;; ++attempt) {
    if (message_) message_(fmt::format("{}: {}; reconnecting in {:g} s (attempt {})", info_.name, reason, delay, attempt));
    if (!SleepUnlessStopped(delay)) return nullptr;
    auto source = open_();
    if (stopped()) return nullptr;
    if (source.ok()) {
      if (message_) message_(fmt::format("{}: reconnected", info_.name));
      reconnects_.fetch_add(1);
      return std::move(source).value();
    }
    reason = source.status().message();
    delay = std::min(delay * 2, kMaxReconnectDelay);
  }
}

void FramePump::Run(std::unique_ptr<FrameSource> source) {
  const Clock::time_point start = Clock::now();
  const bool can_reconnect = options_.reconnect && (info_.kind == SourceKind::kNetwork || info_.kind == SourceKind::kDevice);
  const double period = options_.max_fps > 0 ? 1.0 / options_.max_fps : 0;
  double offset = 0;                 // added to this connection's times
  double last_time = -1;             // last frame time delivered or skipped (pump time)
  bool have_due = false;
  double next_due = 0;               // max_fps: the earliest time of the next kept frame
  bool paced = false;                // pace: anchor of this connection
  double pace_time = 0;
  Clock::time_point pace_wall;
  for (;;) {
    double t = 0;
    int64_t source_index = 0;
    auto outcome = source->Next(&t, &source_index);
    corrupt_.store(corrupt_base_ + source->corrupt_packets());
    if (outcome.ok() && *outcome == ReadOutcome::kFrame) {
      t = std::max(t + offset, last_time);
      last_time = t;
      const int64_t index = read_.fetch_add(1);
      if (period > 0) {
        if (have_due && t < next_due - 1e-9) {
          skipped_.fetch_add(1);
          continue;
        }
        // Keep a steady grid; after a gap, restart it at this frame.
        next_due = have_due && t - next_due < period ? next_due + period : t + period;
        have_due = true;
      }
      if (options_.pace) {
        if (!paced) {
          paced = true;
          pace_time = t;
          pace_wall = Clock::now();
        }
        const double wait = (t - pace_time) - SecondsSince(pace_wall);
        if (wait > 0 && !SleepUnlessStopped(wait)) break;
      }
      VideoFrame frame;
      if (!source->Convert(&frame.image).ok()) {  // the source has reported it
        undecodable_.fetch_add(1);
        continue;
      }
      frame.time = t;
      frame.index = index;
      const int dropped = queue_.Push(std::move(frame));
      if (dropped < 0) break;  // cancelled
      dropped_.fetch_add(dropped);
      continue;
    }
    if (stopped() || (outcome.ok() && *outcome == ReadOutcome::kInterrupted)) break;
    const Status why = outcome.ok() ? Status::Ok() : outcome.status();
    if (!can_reconnect) {
      if (info_.kind == SourceKind::kNetwork || info_.kind == SourceKind::kDevice)
        if (why.ok() && message_) message_(info_.name + ": the stream ended");
      std::lock_guard<std::mutex> lock(mu_);
      end_status_ = why;
      break;
    }
    corrupt_base_ += source->corrupt_packets();
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = nullptr;
    }
    source.reset();
    // A failure message already names the source; strip it for "<name>: <why>; ...".
    std::string reason = why.ok() ? "the stream ended" : why.message();
    if (reason.rfind(info_.name + ": ", 0) == 0) reason = reason.substr(info_.name.size() + 2);
    source = Reconnect(reason);
    if (!source) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = source.get();
    }
    if (stopped()) break;
    // The new connection's times start near 0: continue after the old ones, at least as
    // late as the wall-clock time that passed.
    offset = std::max(SecondsSince(start), last_time + (period > 0 ? period : 0.001));
    paced = false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = nullptr;
  }
  queue_.Close();
}

}  // namespace personcls::video
