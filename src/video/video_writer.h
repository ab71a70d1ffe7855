// Writes RGB frames as a video file (libavformat muxer + libavcodec encoder), for
// `watch --out annotated.mp4` and for tests that need media.
//
// The container comes from the file name (.mp4, .mkv, .avi, .mov, .nut, ...). The
// encoder is WriterOptions::codec, or else the container's default video encoder (H.264
// through libx264 for .mp4/.mkv on Debian), falling back to MPEG-4 Part 2 when that one
// is not available. Frames are converted from RGB to the encoder's first pixel format by
// libswscale; sizes are rounded down to even numbers for 4:2:0 formats (the frame is
// scaled to fit). Frames of another size than the first are scaled to it.
//
// Timestamps are each frame's time in milliseconds, so frames need not be evenly spaced
// (dropped frames leave gaps); equal or decreasing times are bumped by 1 ms.
//
// The file is written under a temporary name beside the target and renamed into place by
// Close(); destroying the writer without a successful Close() removes the temporary, so
// an existing file is never half-overwritten.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "personcls/image.h"
#include "personcls/status.h"

namespace personcls::video {

struct WriterOptions {
  std::string codec;  // libavcodec encoder name ("libx264", "mpeg4", "ffv1", "mjpeg"); empty: default
  std::string pixel_format;  // e.g. "bgr0" for lossless RGB in FFV1; empty: yuv420p if offered, else the first
  double fps = 25;    // nominal rate, a hint for the container
  std::vector<std::pair<std::string, std::string>> codec_options;  // AVOptions, e.g. {"crf", "18"}
};

class VideoWriter {
 public:
  // Errors name the path ("out.xyz: no container format for this file name").
  static Expected<std::unique_ptr<VideoWriter>> Open(const std::string& path, int width, int height, const WriterOptions& options);
  virtual ~VideoWriter() = default;

  virtual Status Write(const Image& rgb, double time) = 0;  // rgb: 3 channels
  virtual Status Close() = 0;                               // flush, trailer, rename
  virtual const std::string& codec_name() const = 0;        // the encoder used
};

}  // namespace personcls::video
