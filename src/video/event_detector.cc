#include "video/event_detector.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>

#include <fmt/core.h>

namespace personcls::video {

namespace {
// Times come from timestamps converted to double; a duration that is a whole number of
// frames must not miss its frame by one rounding error.
constexpr double kTimeEps = 1e-9;
}  // namespace

Status ValidateEventOptions(const EventOptions& o) {
  auto unit = [](const char* flag, double v) -> Status {
    if (!(v >= 0 && v <= 1)) return Status::Error(fmt::format("{} {}: must be in [0, 1]", flag, v));
    return Status::Ok();
  };
  PCLS_RETURN_IF_ERROR(unit("--enter", o.enter));
  PCLS_RETURN_IF_ERROR(unit("--leave", o.leave));
  if (o.leave > o.enter) return Status::Error(fmt::format("--leave {} is above --enter {}: hysteresis needs leave <= enter", o.leave, o.enter));
  auto seconds = [](const char* flag, double v) -> Status {
    if (!(v >= 0 && std::isfinite(v))) return Status::Error(fmt::format("{} {}: must be a number of seconds >= 0", flag, v));
    return Status::Ok();
  };
  PCLS_RETURN_IF_ERROR(seconds("--smooth", o.smooth));
  PCLS_RETURN_IF_ERROR(seconds("--min-present", o.min_present));
  PCLS_RETURN_IF_ERROR(seconds("--min-absent", o.min_absent));
  return Status::Ok();
}

const char* EventName(EventType type) { return type == EventType::kAppeared ? "appeared" : "left"; }

EventDetector::EventDetector(const EventOptions& options) : options_(options) {
  assert(ValidateEventOptions(options).ok());
}

DetectorStep EventDetector::Update(double time, int64_t frame, double score) {
  assert(!started_ || time >= last_time_);
  if (started_) time = std::max(time, last_time_);
  const double p = std::isnan(score) ? 0.0 : std::clamp(score, 0.0, 1.0);
  if (!started_ || options_.smooth <= 0) {
    smoothed_ = p;
  } else {
    smoothed_ += (1.0 - std::exp(-(time - last_time_) / options_.smooth)) * (p - smoothed_);
  }
  started_ = true;
  last_time_ = time;

  DetectorStep step;
  // Raw runs are tracked only in the settled states; a pending change keeps the onset it
  // had when the smoothed score crossed (so a snapshot taken at onset_started matches it).
  if (state_ == State::kAbsent || state_ == State::kPresent) {
    const bool other_side = state_ == State::kAbsent ? p >= options_.enter : p < options_.leave;
    if (!other_side) {
      run_active_ = false;
    } else if (!run_active_) {
      run_active_ = true;
      run_time_ = time;
      run_frame_ = frame;
      step.onset_started = true;
    }
  }
  auto start_pending = [&](State pending) {
    // s crossed, so this frame's p crossed too and a run is active; fall back to this
    // frame should rounding ever disagree.
    pending_time_ = run_active_ ? run_time_ : time;
    pending_frame_ = run_active_ ? run_frame_ : frame;
    state_ = pending;
  };
  auto confirm = [&](EventType type) {
    Event e;
    e.type = type;
    e.time = pending_time_;
    e.frame = pending_frame_;
    e.score = smoothed_;
    e.confirmed_time = time;
    e.confirmed_frame = frame;
    step.event = e;
    run_active_ = false;
  };
  switch (state_) {
    case State::kAbsent:
      if (smoothed_ >= options_.enter) start_pending(State::kPendingAppear);
      break;
    case State::kPresent:
      if (smoothed_ < options_.leave) start_pending(State::kPendingLeave);
      break;
    default:
      break;
  }
  if (state_ == State::kPendingAppear) {
    if (smoothed_ < options_.enter) {
      state_ = State::kAbsent;
      run_active_ = false;
    } else if (time - pending_time_ >= options_.min_present - kTimeEps) {
      confirm(EventType::kAppeared);
      present_since_ = pending_time_;
      state_ = State::kPresent;
    }
  } else if (state_ == State::kPendingLeave) {
    if (smoothed_ >= options_.leave) {
      state_ = State::kPresent;
      run_active_ = false;
    } else if (time - pending_time_ >= options_.min_absent - kTimeEps) {
      confirm(EventType::kLeft);
      present_total_ += pending_time_ - present_since_;
      state_ = State::kAbsent;
    }
  }
  step.smoothed = smoothed_;
  step.present = present();
  return step;
}

double EventDetector::PresentSeconds(double end_time) const {
  return present_total_ + (present() ? std::max(0.0, end_time - present_since_) : 0.0);
}

}  // namespace personcls::video
