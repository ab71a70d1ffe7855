// Draws a frame's Person score on it, for `watch --out annotated.mp4`: a person looking at
// the video sees what the classifier saw.
//
//   * a bar along the bottom edge (height max(4, H/20)): filled to score x W, green when
//     the frame's decision is Person, red when not; a white mark at the smoothed score;
//     yellow ticks at the enter and leave thresholds;
//   * the score as text ("0.87") in the top-left corner, on a dark box, with "PERSON"
//     after it while a person is present (an event state);
//   * a green border (max(2, H/100) pixels) while a person is present.
// Text uses a built-in 5x7 pixel font (digits, '.', and the letters of PERSON), scaled by
// max(1, H/120). The image is modified in place; it must be RGB.
#pragma once

#include <string>

#include "personcls/image.h"

namespace personcls::video {

struct OverlayInfo {
  double score = 0;     // this frame's Person score
  double smoothed = 0;  // the event detector's smoothed score
  bool decision = false;  // this frame's thresholded decision (Person)
  bool present = false;   // event state: a person is present
  double enter = 0.6, leave = 0.4;
};

void DrawOverlay(Image* rgb, const OverlayInfo& info);

// Draws `text` with its top-left corner at (x, y), each font pixel a scale x scale square;
// characters the font lacks are drawn as spaces. Clipped to the image.
void DrawText(Image* rgb, int x, int y, int scale, const std::string& text, const uint8_t color[3]);
// Width in pixels DrawText uses for `text` at `scale`.
int TextWidth(const std::string& text, int scale);

}  // namespace personcls::video
