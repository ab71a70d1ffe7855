#include "video/video_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <fmt/core.h>

#include "video/ffmpeg_util.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace personcls::video {

namespace {

class FfmpegWriter final : public VideoWriter {
 public:
  ~FfmpegWriter() override {
    if (oc_) {
      if (oc_->pb && !(oc_->oformat->flags & AVFMT_NOFILE)) avio_closep(&oc_->pb);
      avformat_free_context(oc_);
    }
    if (!closed_ && !temp_.empty()) std::remove(temp_.c_str());
  }
  Status Init(const std::string& path, int width, int height, const WriterOptions& options);
  Status Write(const Image& rgb, double time) override;
  Status Close() override;
  const std::string& codec_name() const override { return codec_name_; }

 private:
  Status Fail(const std::string& what, int err) const {
    std::string msg = fmt::format("{}: {}: {}", path_, what, AvError(err));
    const std::string detail = LastFfmpegError();
    if (!detail.empty()) msg += " (" + detail + ")";
    return Status::Error(msg);
  }
  Status Encode(AVFrame* frame);

  std::string path_, temp_, codec_name_;
  AVFormatContext* oc_ = nullptr;
  AVStream* stream_ = nullptr;
  AvCodecContextPtr encoder_;
  AvFramePtr frame_;
  AvPacketPtr packet_;
  SwsPtr sws_;
  bool full_range_ = false;
  bool closed_ = false;
  int64_t last_pts_ = -1;
};

// YUV 4:2:0 for players when the encoder offers it; otherwise its first format.
AVPixelFormat PickPixelFormat(const AVCodec* codec) {
  if (!codec->pix_fmts) return AV_PIX_FMT_YUV420P;
  for (const AVPixelFormat* f = codec->pix_fmts; *f != AV_PIX_FMT_NONE; ++f)
    if (*f == AV_PIX_FMT_YUV420P) return *f;
  return codec->pix_fmts[0];
}

Status FfmpegWriter::Init(const std::string& path, int width, int height, const WriterOptions& options) {
  InitFfmpeg();
  ClearFfmpegError();
  path_ = path;
  if (width <= 0 || height <= 0) return Status::Error(fmt::format("{}: cannot write {}x{} frames", path, width, height));
  const AVOutputFormat* format = av_guess_format(nullptr, path.c_str(), nullptr);
  if (!format) return Status::Error(path + ": no video container for this file name (use .mp4, .mkv, .avi, ...)");
  const AVCodec* codec = nullptr;
  if (!options.codec.empty()) {
    codec = avcodec_find_encoder_by_name(options.codec.c_str());
    if (!codec || codec->type != AVMEDIA_TYPE_VIDEO) return Status::Error(fmt::format("{}: no video encoder named '{}'", path, options.codec));
  } else {
    codec = format->video_codec != AV_CODEC_ID_NONE ? avcodec_find_encoder(format->video_codec) : nullptr;
    if (!codec) codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (!codec) return Status::Error(path + ": no video encoder available for this container");
  }
  if (avformat_query_codec(format, codec->id, FF_COMPLIANCE_NORMAL) == 0)
    return Status::Error(fmt::format("{}: the {} container cannot hold {} video", path, format->name, codec->name));
  codec_name_ = codec->name;

  temp_ = fmt::format("{}.tmp{}", path, static_cast<long>(getpid()));
  int err = avformat_alloc_output_context2(&oc_, format, nullptr, temp_.c_str());
  if (err < 0 || !oc_) return Fail("cannot set up the container", err);
  stream_ = avformat_new_stream(oc_, nullptr);
  encoder_.reset(avcodec_alloc_context3(codec));
  frame_.reset(av_frame_alloc());
  packet_.reset(av_packet_alloc());
  if (!stream_ || !encoder_ || !frame_ || !packet_) return Status::Error(path + ": out of memory");

  bool full_range = false;
  AVPixelFormat pix = PickPixelFormat(codec);
  if (!options.pixel_format.empty()) {
    pix = av_get_pix_fmt(options.pixel_format.c_str());
    bool offered = false;
    for (const AVPixelFormat* f = codec->pix_fmts; f && *f != AV_PIX_FMT_NONE; ++f) offered |= *f == pix;
    if (pix == AV_PIX_FMT_NONE || !offered)
      return Status::Error(fmt::format("{}: {} cannot encode pixel format '{}'", path, codec->name, options.pixel_format));
  }
  PlainPixelFormat(pix, &full_range);  // yuvj: full range
  full_range_ = full_range;
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(pix);
  const int w = width & ~((1 << desc->log2_chroma_w) - 1), h = height & ~((1 << desc->log2_chroma_h) - 1);
  if (w <= 0 || h <= 0) return Status::Error(fmt::format("{}: {}x{} frames are too small for {}", path, width, height, codec->name));
  AVCodecContext* enc = encoder_.get();
  enc->width = w;
  enc->height = h;
  enc->pix_fmt = pix;
  enc->time_base = AVRational{1, 1000};
  enc->framerate = av_d2q(options.fps > 0 ? options.fps : 25, 100000);
  enc->gop_size = std::max(1, static_cast<int>(std::lround(options.fps > 0 ? options.fps : 25)));
  enc->colorspace = AVCOL_SPC_SMPTE170M;  // what the RGB->YUV conversion below uses (BT.601)
  enc->color_range = full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  if (oc_->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* codec_opts = nullptr;
  for (const auto& [k, v] : options.codec_options) av_dict_set(&codec_opts, k.c_str(), v.c_str(), 0);
  if (options.codec_options.empty()) {
    // Good-looking defaults for a person to watch; the defaults of these encoders are not.
    if (codec_name_ == "libx264") {
      av_dict_set(&codec_opts, "preset", "veryfast", 0);
      av_dict_set(&codec_opts, "crf", "23", 0);
    } else if (codec->id == AV_CODEC_ID_MPEG4 || codec->id == AV_CODEC_ID_MJPEG) {
      enc->flags |= AV_CODEC_FLAG_QSCALE;
      enc->global_quality = FF_QP2LAMBDA * 3;
    }
  }
  err = avcodec_open2(enc, codec, &codec_opts);
  std::string unused;
  for (const AVDictionaryEntry* e = nullptr; (e = av_dict_get(codec_opts, "", e, AV_DICT_IGNORE_SUFFIX));)
    unused += std::string(unused.empty() ? "" : ", ") + e->key;
  av_dict_free(&codec_opts);
  if (err < 0) return Fail(fmt::format("cannot open the {} encoder", codec->name), err);
  if (!unused.empty()) return Status::Error(fmt::format("{}: option not understood by {}: {}", path, codec->name, unused));
  err = avcodec_parameters_from_context(stream_->codecpar, enc);
  if (err < 0) return Fail("cannot set up the stream", err);
  stream_->time_base = enc->time_base;
  stream_->avg_frame_rate = enc->framerate;

  if (!(oc_->oformat->flags & AVFMT_NOFILE)) {
    err = avio_open(&oc_->pb, temp_.c_str(), AVIO_FLAG_WRITE);
    if (err < 0) return Fail("cannot create", err);
  }
  AVDictionary* mux_opts = nullptr;
  // Index first (MP4/MOV), so the file plays while being downloaded and a cut copy still opens.
  if (std::string(format->name).find("mp4") != std::string::npos || std::string(format->name) == "mov")
    av_dict_set(&mux_opts, "movflags", "+faststart", 0);
  err = avformat_write_header(oc_, &mux_opts);
  av_dict_free(&mux_opts);
  if (err < 0) return Fail("cannot write the header", err);

  frame_->format = pix;
  frame_->width = w;
  frame_->height = h;
  frame_->color_range = enc->color_range;
  frame_->colorspace = enc->colorspace;
  err = av_frame_get_buffer(frame_.get(), 0);
  if (err < 0) return Fail("cannot allocate a frame", err);
  return Status::Ok();
}

Status FfmpegWriter::Encode(AVFrame* frame) {
  int err = avcodec_send_frame(encoder_.get(), frame);
  if (err < 0) return Fail("encoding failed", err);
  for (;;) {
    err = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
    if (err < 0) return Fail("encoding failed", err);
    av_packet_rescale_ts(packet_.get(), encoder_->time_base, stream_->time_base);
    packet_->stream_index = stream_->index;
    err = av_interleaved_write_frame(oc_, packet_.get());  // takes the packet's reference
    if (err < 0) return Fail("write failed", err);
  }
}

Status FfmpegWriter::Write(const Image& rgb, double time) {
  assert(!closed_ && rgb.channels == 3);
  if (rgb.width <= 0 || rgb.height <= 0 || rgb.channels != 3) return Status::Error(path_ + ": not an RGB frame");
  int64_t pts = std::llround(time * 1000);
  if (pts <= last_pts_) pts = last_pts_ + 1;
  last_pts_ = pts;
  int err = av_frame_make_writable(frame_.get());
  if (err < 0) return Fail("cannot allocate a frame", err);
  bool ignored = false;
  const AVPixelFormat dst = PlainPixelFormat(encoder_->pix_fmt, &ignored);
  SwsContext* ctx = sws_getCachedContext(sws_.release(), rgb.width, rgb.height, AV_PIX_FMT_RGB24, frame_->width, frame_->height, dst,
                                         SWS_BILINEAR | SWS_FULL_CHR_H_INP, nullptr, nullptr, nullptr);
  sws_.reset(ctx);
  if (!ctx) return Status::Error(fmt::format("{}: cannot convert RGB to {}", path_, av_get_pix_fmt_name(encoder_->pix_fmt)));
  // Full-range RGB in; BT.601 out, at the range the stream declares.
  const int* table = sws_getCoefficients(SWS_CS_ITU601);
  sws_setColorspaceDetails(ctx, table, 1, table, full_range_ ? 1 : 0, 0, 1 << 16, 1 << 16);
  const uint8_t* src[4] = {rgb.pixels.data(), nullptr, nullptr, nullptr};
  const int src_stride[4] = {3 * rgb.width, 0, 0, 0};
  sws_scale(ctx, src, src_stride, 0, rgb.height, frame_->data, frame_->linesize);
  frame_->pts = pts;
  return Encode(frame_.get());
}

Status FfmpegWriter::Close() {
  assert(!closed_);
  PCLS_RETURN_IF_ERROR(Encode(nullptr));
  int err = av_write_trailer(oc_);
  if (err < 0) return Fail("cannot finish the file", err);
  if (oc_->pb && !(oc_->oformat->flags & AVFMT_NOFILE)) {
    err = avio_closep(&oc_->pb);
    if (err < 0) return Fail("write failed", err);
  }
  if (std::rename(temp_.c_str(), path_.c_str()) != 0)
    return Status::Error(fmt::format("{}: cannot rename {} into place: {}", path_, temp_, std::strerror(errno)));
  closed_ = true;
  return Status::Ok();
}

}  // namespace

Expected<std::unique_ptr<VideoWriter>> VideoWriter::Open(const std::string& path, int width, int height, const WriterOptions& options) {
  auto writer = std::make_unique<FfmpegWriter>();
  PCLS_RETURN_IF_ERROR(writer->Init(path, width, height, options));
  return std::unique_ptr<VideoWriter>(std::move(writer));
}

}  // namespace personcls::video
