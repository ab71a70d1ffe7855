// FFmpeg plumbing shared by the video sources and the writer (internal to src/video; the
// only headers that include FFmpeg's): owning handles, error text, one-time init, logging.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace personcls::video {

struct AvFormatInputCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct AvCodecContextFree {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct AvFrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct AvPacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using AvFormatInput = std::unique_ptr<AVFormatContext, AvFormatInputCloser>;
using AvCodecContextPtr = std::unique_ptr<AVCodecContext, AvCodecContextFree>;
using AvFramePtr = std::unique_ptr<AVFrame, AvFrameFree>;
using AvPacketPtr = std::unique_ptr<AVPacket, AvPacketFree>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFree>;

// av_strerror's text for an AVERROR code.
std::string AvError(int err);

// Registers devices (V4L2), initialises networking and installs the log callback; once.
void InitFfmpeg();

// FFmpeg's own log lines are kept quiet (a watch prints its own one-line messages); the
// last error-level line is remembered so a failure can say what FFmpeg reported.
// SetFfmpegLogging(true) (source.h) prints them all to stderr as well.
std::string LastFfmpegError();
void ClearFfmpegError();

// The swscale colour matrix of an AVColorSpace (601 when unspecified), and whether a pixel
// format is one of the deprecated full-range "yuvj" formats, mapped to its plain twin.
AVPixelFormat PlainPixelFormat(AVPixelFormat format, bool* full_range);

}  // namespace personcls::video
