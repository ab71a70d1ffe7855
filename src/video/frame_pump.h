// The reader side of `watch`: a thread that reads, decodes and converts frames while the
// caller runs inference on the previous ones, joined by a BoundedQueue.
//
//   * Non-live sources (files, stdin by default): every frame is delivered; the reader
//     waits when `queue_frames` are queued.
//   * Live sources: the queue holds `live_queue_frames` (2) frames; a new frame replaces
//     the oldest unprocessed one, which is counted as dropped. Latency stays within two
//     frames, memory is bounded, and one late inference (the machine busy for a moment)
//     costs no frame.
//   * `max_fps`: frames closer than 1/max_fps seconds (source time) to the last kept
//     frame are skipped before conversion (counted as skipped).
//   * `pace`: frames are released at the source's own rate (a file played as a camera).
//   * `reconnect`: when a network or device source ends or fails, the pump waits
//     (1 s, doubling up to 30 s), reopens it and goes on; times continue from where they
//     were (the gap is the wall-clock time spent reconnecting).
//
// Frame times are the source's, offset across reconnects; frame indices count every frame
// read (skipped and dropped ones too), so gaps in the delivered indices show what was left
// out. Counters obey read = delivered + skipped + dropped + undecodable (+ at most one
// frame in flight when stopped).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "video/bounded_queue.h"
#include "video/source.h"

namespace personcls::video {

struct PumpOptions {
  bool live = false;
  bool pace = false;
  bool reconnect = false;        // honoured for network and device sources only
  double max_fps = 0;            // 0: every frame
  double reconnect_delay = 1.0;  // first wait in seconds; doubles up to 30
  int queue_frames = 4;          // queue capacity when not live
  int live_queue_frames = 2;     // when live
  const std::atomic<bool>* interrupt = nullptr;  // e.g. set by SIGINT; stops the pump (not owned)
};

struct PumpStats {
  int64_t read = 0;         // frames decoded from the source(s)
  int64_t skipped = 0;      // left out by max_fps
  int64_t dropped = 0;      // replaced while inference was busy (live)
  int64_t undecodable = 0;  // frames whose image could not be decoded (corrupt JPEG packet, ...)
  int64_t corrupt = 0;      // corrupt packets and damaged frames reported by the decoder(s)
  int reconnects = 0;
};

class FramePump {
 public:
  using Opener = std::function<Expected<std::unique_ptr<FrameSource>>()>;
  using MessageFn = std::function<void(const std::string&)>;  // one-line notices, from the reader thread

  // Opens the source (an error is returned as is) and starts reading. `open` is called
  // again on the reader thread to reconnect, and `message` from it: what they refer to must
  // outlive the pump. The pump owns the sources it opens.
  static Expected<std::unique_ptr<FramePump>> Start(Opener open, const PumpOptions& options, MessageFn message);
  ~FramePump();  // stops and joins the reader

  // Waits for the next frame; false once the source has ended (or failed, or stopped) and
  // everything queued was delivered.
  bool Next(VideoFrame* frame);
  // Ends reading soon, from any thread; Next() then returns false.
  void Stop();

  const SourceInfo& info() const { return info_; }  // of the first connection
  PumpStats stats() const;
  // After Next() returned false: ok when the source ended or the pump was stopped; the
  // error that ended it otherwise (a stall or read error with no --reconnect).
  Status end_status() const;
  bool stopped() const { return stop_.load() || (options_.interrupt && options_.interrupt->load()); }

 private:
  FramePump(Opener open, const PumpOptions& options, MessageFn message);
  void Run(std::unique_ptr<FrameSource> source);
  // Sleeps up to `seconds`, waking early when stopped; false when stopped.
  bool SleepUnlessStopped(double seconds);
  std::unique_ptr<FrameSource> Reconnect(const std::string& why);

  Opener open_;
  PumpOptions options_;
  MessageFn message_;
  SourceInfo info_;
  BoundedQueue<VideoFrame> queue_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;           // guards current_ and end_status_
  FrameSource* current_ = nullptr;  // the open source, owned by the reader thread
  Status end_status_;
  int64_t corrupt_base_ = 0;  // corrupt counts of closed connections (reader thread only)
  std::atomic<int64_t> read_{0}, skipped_{0}, dropped_{0}, undecodable_{0}, corrupt_{0};
  std::atomic<int> reconnects_{0};
};

}  // namespace personcls::video
