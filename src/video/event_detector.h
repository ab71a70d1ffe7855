// Person presence events from a stream of per-frame Person scores: pure logic, no video.
//
// Each processed frame gives (time in seconds from the start of the source, Person score
// p in [0, 1]). Frames may come at any spacing (dropped frames, --fps, a reconnect gap).
//
// 1. Smoothing: an exponential moving average with time constant `smooth` seconds,
//      s = s + (1 - exp(-dt / smooth)) * (p - s),   dt = time since the previous frame,
//    so the weight of a frame does not depend on the frame rate. The first frame sets
//    s = p; smooth = 0 turns smoothing off (s = p).
// 2. Hysteresis: while absent, a person appears when s >= enter; while present, the person
//    leaves when s < leave (leave <= enter).
// 3. Minimum durations: the change is reported only once it has lasted min_present
//    (min_absent) seconds; if s falls back first (below enter, or back to >= leave), it
//    is forgotten. So a one-frame flicker produces no event.
// 4. Event time: not when the filter caught up, but the onset of the change: the first
//    frame of the run of raw scores on the new side (p >= enter for "appeared", p < leave
//    for "left") that was going on when s crossed. Such a run always exists: s moves
//    towards p, so s crossing a level means this frame's p is past it too. With clean
//    inputs the event time is the frame where the scene changed, whatever the smoothing.
//    Durations in 3 are measured from this onset.
//
// The detector also says when a raw run starts (`onset_started`), so a caller can keep
// that frame for a snapshot of the event, which is reported later (on confirmation).
#pragma once

#include <cstdint>
#include <optional>

#include "personcls/status.h"

namespace personcls::video {

struct EventOptions {
  double enter = 0.6;        // smoothed score at or above: person present
  double leave = 0.4;        // smoothed score below: person gone
  double smooth = 0.3;       // EMA time constant in seconds; 0: none
  double min_present = 0.5;  // seconds a presence must last to be reported
  double min_absent = 1.0;   // seconds an absence must last to be reported
};

// Checks ranges: 0 <= leave <= enter <= 1, smooth and durations finite and >= 0. The
// message names the option ("--enter 1.5: must be in [0, 1]").
Status ValidateEventOptions(const EventOptions& options);

enum class EventType { kAppeared, kLeft };
const char* EventName(EventType type);  // "appeared" | "left"

struct Event {
  EventType type = EventType::kAppeared;
  double time = 0;           // onset (see above), seconds from the start of the source
  int64_t frame = 0;         // frame number of the onset
  double score = 0;          // smoothed score when confirmed
  double confirmed_time = 0; // time of the frame that confirmed the event (>= time)
  int64_t confirmed_frame = 0;
};

struct DetectorStep {
  double smoothed = 0;
  bool present = false;        // state after this frame
  bool onset_started = false;  // this frame starts a raw run that may become an event's onset
  std::optional<Event> event;  // confirmed at this frame
};

class EventDetector {
 public:
  explicit EventDetector(const EventOptions& options);  // options must be valid (asserted)

  // Frames must come in non-decreasing time (asserted); NaN scores count as 0.
  DetectorStep Update(double time, int64_t frame, double score);

  bool present() const { return state_ == State::kPresent || state_ == State::kPendingLeave; }
  // Seconds with a person present, from the reported events, up to `end_time` (a presence
  // still going on counts until then).
  double PresentSeconds(double end_time) const;

 private:
  enum class State { kAbsent, kPendingAppear, kPresent, kPendingLeave };
  EventOptions options_;
  State state_ = State::kAbsent;
  bool started_ = false;
  double last_time_ = 0;
  double smoothed_ = 0;
  // Start of the current raw run on the "other" side (see 4); valid when run_active_.
  bool run_active_ = false;
  double run_time_ = 0;
  int64_t run_frame_ = 0;
  // The onset being confirmed (pending states).
  double pending_time_ = 0;
  int64_t pending_frame_ = 0;
  double present_total_ = 0;   // closed presences
  double present_since_ = 0;   // open presence start (state present)
};

}  // namespace personcls::video
