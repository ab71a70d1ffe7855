// Video sources: files, V4L2 devices, network streams and stdin, demuxed and decoded by
// FFmpeg (libavformat, libavcodec, libswscale, libavdevice). FFmpeg types stay inside
// src/video; this header and everything that includes it see only personcls types.
//
// Frames come out as owning RGB Images (8-bit HWC, 3 channels) at the source's size:
//   * packets that are whole still images (MJPEG, PNG, BMP, PPM/PGM: image streams on
//     stdin, MJPEG cameras and files) are decoded by personcls's own image decoders, so a
//     frame is bit for bit what `personcls classify` gets from the same image;
//   * any other codec is decoded by libavcodec and converted to RGB by libswscale (the
//     frame's colour matrix and range; chroma interpolated to full resolution).
//
// Time: seconds from the start of the source, from the frame's best-effort timestamp
// minus the first frame's, made non-decreasing (a timestamp that jumps back continues from
// the previous frame at the nominal frame rate). Frames without timestamps are timed by
// the nominal rate, except on live sources (network, device): by their arrival, in
// seconds since the first frame.
//
// A FrameSource is used from one thread. Interrupt() may be called from any thread (and
// the `interrupt` flag of SourceOptions may be set from a signal handler): a blocking
// read returns promptly with kInterrupted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "personcls/image.h"
#include "personcls/status.h"

namespace personcls::video {

enum class SourceKind {
  kFile,     // a regular file (finite; never dropped from, never reconnected)
  kDevice,   // a V4L2 device, /dev/video* or any character device (live)
  kNetwork,  // a URL with a scheme: rtsp://, http://, udp://, ... (live)
  kStdin,    // "-": images, MJPEG or any FFmpeg-probeable stream on standard input
};
// By the name alone (and, for paths, whether it is a character device).
SourceKind ClassifySource(const std::string& source);
const char* SourceKindName(SourceKind kind);  // "file" | "device" | "network" | "stdin"

struct SourceOptions {
  std::string format;  // FFmpeg input format ("mjpeg", "v4l2", ...); empty: probe (v4l2 for devices)
  std::vector<std::pair<std::string, std::string>> options;  // FFmpeg AVOptions for the demuxer/protocol
  double timeout = 10;    // seconds without data before a read fails as stalled (live and stdin)
  double input_fps = 0;   // frame rate for image streams without timestamps (stdin); 0: FFmpeg's 25
  const std::atomic<bool>* interrupt = nullptr;  // when set, blocking reads return (not owned)
  // Receives one-line warnings (corrupt packets, ...), from the reading thread.
  std::function<void(const std::string&)> warn;
};

struct SourceInfo {
  std::string name;    // as given
  SourceKind kind = SourceKind::kFile;
  std::string format;  // demuxer, e.g. "matroska,webm"
  std::string codec;   // e.g. "h264"
  int width = 0, height = 0;  // of the first frame's stream parameters
  double fps = 0;      // nominal; 0 when unknown
  double duration = 0; // seconds; 0 when unknown (live)
};

// What Read returns besides a frame.
enum class ReadOutcome {
  kFrame,        // *frame holds the next frame
  kEnd,          // the source ended (end of file, stream closed)
  kInterrupted,  // Interrupt() or the interrupt flag
};

struct VideoFrame {
  Image image;        // RGB, source size
  double time = 0;    // seconds from the start of the source
  int64_t index = 0;  // 0-based number of the frame among those decoded from the source
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const SourceInfo& info() const = 0;

  // Decodes the next frame and returns its time, without converting it to RGB yet, so a
  // frame the caller skips (--fps) costs no conversion. Errors: a stall ("no data for 10
  // s"), a read error, a frame too large to hold; they name the source.
  virtual Expected<ReadOutcome> Next(double* time, int64_t* index) = 0;
  // Converts the frame Next() returned. A frame whose image cannot be decoded (a corrupt
  // JPEG packet) is an error naming the frame; reading may go on.
  virtual Status Convert(Image* image) = 0;

  // Packets the decoder rejected (corrupt data), so far.
  virtual int64_t corrupt_packets() const = 0;
  virtual void Interrupt() = 0;
};

// Opens and probes a source; errors name it ("cam.mp4: cannot open: No such file or
// directory", "rtsp://host/x: cannot open: Connection refused", "x.txt: no video stream").
Expected<std::unique_ptr<FrameSource>> OpenSource(const std::string& source, const SourceOptions& options);

// FFmpeg's own log lines are off by default (errors are reported as one-line messages);
// true prints them to stderr (info level), for diagnosing a camera or stream.
void SetFfmpegLogging(bool print);

}  // namespace personcls::video
