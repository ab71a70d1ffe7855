// The presence event detector: smoothing, hysteresis, minimum durations and onset times,
// checked against hand-derived and closed-form expectations.
#include "video/event_detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

namespace personcls::video {
namespace {

struct Trace {
  std::vector<Event> events;
  std::vector<DetectorStep> steps;
};

// Feeds frames i = 0..n-1 at time i * dt with score(i).
Trace Feed(const EventOptions& o, int n, double dt, const std::function<double(int)>& score) {
  EventDetector d(o);
  Trace r;
  for (int i = 0; i < n; ++i) {
    r.steps.push_back(d.Update(i * dt, i, score(i)));
    if (r.steps.back().event) r.events.push_back(*r.steps.back().event);
  }
  return r;
}

EventOptions NoSmoothing() {
  EventOptions o;
  o.smooth = 0;
  return o;
}

TEST(EventDetector, CleanStepsGiveEventsAtTheFramesWhereTheSceneChanged) {
  // 10 fps: absent 0-3 s, present 3-6 s, absent after. min_present 0.5, min_absent 1.
  auto score = [](int i) { return i >= 30 && i < 60 ? 0.95 : 0.05; };
  const Trace r = Feed(NoSmoothing(), 90, 0.1, score);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].type, EventType::kAppeared);
  EXPECT_EQ(r.events[0].frame, 30);
  EXPECT_NEAR(r.events[0].time, 3.0, 1e-12);
  EXPECT_EQ(r.events[0].confirmed_frame, 35);  // 0.5 s later
  EXPECT_EQ(r.events[1].type, EventType::kLeft);
  EXPECT_EQ(r.events[1].frame, 60);
  EXPECT_EQ(r.events[1].confirmed_frame, 70);  // 1 s later
  EXPECT_DOUBLE_EQ(r.events[0].score, 0.95);
  EXPECT_DOUBLE_EQ(r.events[1].score, 0.05);
  // The state flips at the confirmation, not before.
  EXPECT_FALSE(r.steps[34].present);
  EXPECT_TRUE(r.steps[35].present);
  EXPECT_TRUE(r.steps[69].present);
  EXPECT_FALSE(r.steps[70].present);
}

TEST(EventDetector, SmoothingDelaysTheConfirmationNotTheEventTime) {
  // EMA with tau = 0.3 s at 10 fps from 0.05 to 0.95 at frame 30: after k frames
  // s = 0.95 - 0.9 * exp(-k * 0.1 / 0.3). It reaches enter = 0.6 at the first k with
  // exp(-k/3) <= 0.35/0.9.
  EventOptions o;
  o.smooth = 0.3;
  o.min_present = 0;
  o.min_absent = 0;
  int k = 1;
  while (0.95 - 0.9 * std::exp(-k / 3.0) < 0.6) ++k;
  auto score = [](int i) { return i >= 30 ? 0.95 : 0.05; };
  const Trace r = Feed(o, 60, 0.1, score);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].frame, 30);
  EXPECT_EQ(r.events[0].confirmed_frame, 29 + k);
  EXPECT_NEAR(r.events[0].score, 0.95 - 0.9 * std::exp(-k / 3.0), 1e-12);
  EXPECT_NEAR(r.steps[29 + k].smoothed, 0.95 - 0.9 * std::exp(-k / 3.0), 1e-12);
}

TEST(EventDetector, SmoothingDoesNotDependOnTheFrameRate) {
  // For a constant input the EMA after T seconds is p + (s0 - p) exp(-T / tau), whatever
  // the steps: 10 fps and irregular steps agree at t = 2.
  EventOptions o;
  o.smooth = 0.7;
  EventDetector a(o), b(o);
  a.Update(0, 0, 0.1);
  b.Update(0, 0, 0.1);
  double sa = 0, sb = 0;
  for (int i = 1; i <= 20; ++i) sa = a.Update(i * 0.1, i, 0.9).smoothed;
  for (double t : {0.05, 0.6, 0.61, 1.3, 2.0}) sb = b.Update(t, 0, 0.9).smoothed;
  const double expected = 0.9 + (0.1 - 0.9) * std::exp(-2.0 / 0.7);
  EXPECT_NEAR(sa, expected, 1e-12);
  EXPECT_NEAR(sb, expected, 1e-12);
}

TEST(EventDetector, AFlickerShorterThanTheMinimumDurationIsNoEvent) {
  // Two person frames (0.2 s < min_present 0.5 s), and later a 0.5 s gap in a presence
  // (< min_absent 1 s).
  auto score = [](int i) {
    if (i == 10 || i == 11) return 0.99;
    if (i >= 30 && i < 80 && !(i >= 50 && i < 55)) return 0.99;
    return 0.01;
  };
  const Trace r = Feed(NoSmoothing(), 120, 0.1, score);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].frame, 30);
  EXPECT_EQ(r.events[1].frame, 80);
}

TEST(EventDetector, HysteresisKeepsTheStateBetweenTheThresholds) {
  // Present from frame 0, then scores oscillate between 0.45 and 0.55: below enter 0.6
  // but never below leave 0.4, so the person stays.
  auto score = [](int i) { return i < 10 ? 0.9 : (i % 2 ? 0.45 : 0.55); };
  const Trace r = Feed(NoSmoothing(), 100, 0.1, score);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, EventType::kAppeared);
  EXPECT_EQ(r.events[0].frame, 0);  // present from the first frame
  EXPECT_TRUE(r.steps.back().present);
}

TEST(EventDetector, OnsetStartedMarksTheFrameOfEachEvent) {
  auto score = [](int i) { return (i >= 5 && i < 7) || (i >= 20 && i < 40) ? 0.9 : 0.1; };
  const Trace r = Feed(NoSmoothing(), 60, 0.1, score);
  ASSERT_EQ(r.events.size(), 2u);
  for (const Event& e : r.events) EXPECT_TRUE(r.steps[e.frame].onset_started) << e.frame;
  EXPECT_TRUE(r.steps[5].onset_started);  // a run that came to nothing is still marked
  EXPECT_FALSE(r.steps[21].onset_started);
}

TEST(EventDetector, PresentSecondsSumsTheReportedPresences) {
  // Present 2-5 s and from 7 s to the end (10 s).
  auto score = [](int i) { return (i >= 20 && i < 50) || i >= 70 ? 0.9 : 0.1; };
  EventDetector d(NoSmoothing());
  for (int i = 0; i < 100; ++i) d.Update(i * 0.1, i, score(i));
  EXPECT_TRUE(d.present());
  EXPECT_NEAR(d.PresentSeconds(10.0), 3.0 + 3.0, 1e-9);
}

TEST(EventDetector, NanScoresCountAsNoPerson) {
  EventDetector d(NoSmoothing());
  for (int i = 0; i < 20; ++i) d.Update(i * 0.1, i, 0.9);
  ASSERT_TRUE(d.present());
  DetectorStep last;
  for (int i = 20; i < 40; ++i) last = d.Update(i * 0.1, i, std::nan(""));
  EXPECT_FALSE(last.present);
  EXPECT_EQ(last.smoothed, 0.0);
}

TEST(EventDetector, OptionsAreValidated) {
  EventOptions o;
  EXPECT_TRUE(ValidateEventOptions(o).ok());
  o.enter = 1.5;
  EXPECT_NE(ValidateEventOptions(o).message().find("--enter 1.5"), std::string::npos);
  o = EventOptions{};
  o.leave = 0.7;
  EXPECT_NE(ValidateEventOptions(o).message().find("leave <= enter"), std::string::npos);
  o = EventOptions{};
  o.smooth = -1;
  EXPECT_NE(ValidateEventOptions(o).message().find("--smooth"), std::string::npos);
  o = EventOptions{};
  o.min_absent = std::nan("");
  EXPECT_NE(ValidateEventOptions(o).message().find("--min-absent"), std::string::npos);
}

}  // namespace
}  // namespace personcls::video
