// FrameSource over libavformat/libavcodec/libswscale (see source.h).
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>

#include <fmt/core.h>

#include "video/ffmpeg_util.h"
#include "video/source.h"

namespace personcls::video {

SourceKind ClassifySource(const std::string& source) {
  if (source == "-") return SourceKind::kStdin;
  const size_t scheme = source.find("://");
  if (scheme != std::string::npos && scheme > 0 && std::isalpha(static_cast<unsigned char>(source[0]))) {
    bool valid = true;
    for (size_t i = 0; i < scheme; ++i) {
      const char c = source[i];
      valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    }
    if (valid) return source.compare(0, scheme, "file") == 0 ? SourceKind::kFile : SourceKind::kNetwork;
  }
  struct stat st {};
  if (stat(source.c_str(), &st) == 0) return S_ISCHR(st.st_mode) ? SourceKind::kDevice : SourceKind::kFile;
  return source.rfind("/dev/video", 0) == 0 ? SourceKind::kDevice : SourceKind::kFile;
}

const char* SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kFile: return "file";
    case SourceKind::kDevice: return "device";
    case SourceKind::kNetwork: return "network";
    case SourceKind::kStdin: return "stdin";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

// Packets that are whole still images personcls decodes itself (bit-exact with classify).
bool IsImageCodec(AVCodecID id) {
  return id == AV_CODEC_ID_MJPEG || id == AV_CODEC_ID_PNG || id == AV_CODEC_ID_BMP || id == AV_CODEC_ID_PPM || id == AV_CODEC_ID_PGM;
}

constexpr int kStdinBufferBytes = 1 << 16;
constexpr int kMaxWarnings = 5;  // corrupt-data warnings printed; the rest are counted

class FfmpegSource final : public FrameSource {
 public:
  FfmpegSource(const std::string& name, const SourceOptions& options) : options_(options) {
    info_.name = name;
    info_.kind = ClassifySource(name);
  }
  ~FfmpegSource() override {
    fmt_.reset();  // closes the input; a custom AVIOContext is ours to free
    if (avio_) {
      av_freep(&avio_->buffer);
      avio_context_free(&avio_);
    }
  }

  Status Open();
  const SourceInfo& info() const override { return info_; }
  Expected<ReadOutcome> Next(double* time, int64_t* index) override;
  Status Convert(Image* image) override;
  int64_t corrupt_packets() const override { return corrupt_; }
  void Interrupt() override { interrupted_.store(true); }

 private:
  static int InterruptCallback(void* opaque) { return static_cast<FfmpegSource*>(opaque)->ShouldInterrupt() ? 1 : 0; }
  static int ReadStdin(void* opaque, uint8_t* buf, int size);
  bool UserInterrupted() const { return interrupted_.load() || (options_.interrupt && options_.interrupt->load()); }
  bool ShouldInterrupt() {
    if (UserInterrupted()) return true;
    if (deadline_on_ && Clock::now() > deadline_) {
      timed_out_ = true;
      return true;
    }
    return false;
  }
  // Files never stall; everything else must deliver within options_.timeout.
  void ArmDeadline() {
    timed_out_ = false;
    deadline_on_ = info_.kind != SourceKind::kFile && options_.timeout > 0;
    deadline_ = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(options_.timeout * 1e6));
  }
  Status Failure(const std::string& what, int err) const {
    std::string detail = LastFfmpegError();
    std::string msg = fmt::format("{}: {}: {}", info_.name, what, AvError(err));
    if (!detail.empty() && detail.find(AvError(err)) == std::string::npos) msg += " (" + detail + ")";
    return Status::Error(msg);
  }
  void NoteCorrupt(const std::string& message) {
    ++corrupt_;
    if (corrupt_ <= kMaxWarnings && options_.warn)
      options_.warn(corrupt_ < kMaxWarnings ? message : message + " (further corrupt data is only counted)");
  }
  double FrameTime(int64_t ts);

  SourceOptions options_;
  SourceInfo info_;
  AvFormatInput fmt_;
  AVIOContext* avio_ = nullptr;  // stdin only
  AvCodecContextPtr decoder_;    // null for image codecs
  AvFramePtr frame_ = AvFramePtr(av_frame_alloc());
  AvPacketPtr packet_ = AvPacketPtr(av_packet_alloc());
  AvPacketPtr image_packet_ = AvPacketPtr(av_packet_alloc());  // the current image-codec frame
  SwsPtr sws_;
  int sws_key_[5] = {-1, -1, -1, -1, -1};  // w, h, format, colorspace, range of sws_'s setup
  int stream_ = -1;
  AVRational time_base_{1, 1};
  bool image_codec_ = false;
  bool flushing_ = false;
  bool have_frame_ = false;
  std::atomic<bool> interrupted_{false};
  bool deadline_on_ = false, timed_out_ = false;
  Clock::time_point deadline_;
  // Timestamps (see source.h).
  double period_ = 1.0 / 25;
  bool have_first_ts_ = false, have_last_ = false;
  int64_t first_ts_ = 0;
  double offset_ = 0, last_time_ = 0;
  Clock::time_point first_wall_;
  int64_t decoded_ = 0;
  int64_t stdin_bytes_ = 0;
  int64_t corrupt_ = 0;
};

int FfmpegSource::ReadStdin(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<FfmpegSource*>(opaque);
  for (;;) {
    if (self->ShouldInterrupt()) return AVERROR_EXIT;
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int n = poll(&p, 1, 100);  // wake up to check the interrupt flag and the deadline
    if (n < 0) {
      if (errno == EINTR) continue;
      return AVERROR(errno);
    }
    if (n == 0) continue;
    const ssize_t got = read(STDIN_FILENO, buf, static_cast<size_t>(size));
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return AVERROR(errno);
    }
    if (got == 0) return AVERROR_EOF;
    self->stdin_bytes_ += got;
    if (self->deadline_on_) self->ArmDeadline();  // data arrived: not stalled
    return static_cast<int>(got);
  }
}

Status FfmpegSource::Open() {
  InitFfmpeg();
  ClearFfmpegError();
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) return Status::Error(info_.name + ": out of memory");
  raw->interrupt_callback = {&InterruptCallback, this};
  const bool is_stdin = info_.kind == SourceKind::kStdin;
  if (is_stdin) {
    auto* buffer = static_cast<unsigned char*>(av_malloc(kStdinBufferBytes));
    avio_ = buffer ? avio_alloc_context(buffer, kStdinBufferBytes, 0, this, &ReadStdin, nullptr, nullptr) : nullptr;
    if (!avio_) {
      av_free(buffer);
      avformat_free_context(raw);
      return Status::Error("stdin: out of memory");
    }
    raw->pb = avio_;
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  std::string format = options_.format;
  if (format.empty() && info_.kind == SourceKind::kDevice) format = "video4linux2";
  const AVInputFormat* input_format = nullptr;
  if (!format.empty()) {
    input_format = av_find_input_format(format.c_str());
    if (!input_format) {
      avformat_free_context(raw);
      return Status::Error(fmt::format("{}: unknown input format '{}' (FFmpeg's -f names, e.g. mjpeg, v4l2)", info_.name, format));
    }
  }
  AVDictionary* dict = nullptr;
  for (const auto& [key, value] : options_.options) av_dict_set(&dict, key.c_str(), value.c_str(), 0);
  const bool set_rate = options_.input_fps > 0 && !av_dict_get(dict, "framerate", nullptr, 0);
  if (set_rate) av_dict_set(&dict, "framerate", fmt::format("{}", options_.input_fps).c_str(), 0);
  ArmDeadline();
  int err = avformat_open_input(&raw, is_stdin ? "pipe:" : info_.name.c_str(), input_format, &dict);  // frees raw on failure
  if (err < 0) {
    av_dict_free(&dict);
    if (UserInterrupted()) return Status::Error(info_.name + ": interrupted while opening");
    if (timed_out_) return Status::Error(fmt::format("{}: cannot open: no data for {} s (stalled)", info_.name, options_.timeout));
    if (is_stdin && stdin_bytes_ == 0) return Status::Error("-: nothing on stdin (expected images, MJPEG or a video stream)");
    return Failure("cannot open", err);
  }
  fmt_.reset(raw);
  std::string unused;
  for (const AVDictionaryEntry* e = nullptr; (e = av_dict_get(dict, "", e, AV_DICT_IGNORE_SUFFIX));)
    if (!(set_rate && std::string(e->key) == "framerate")) unused += std::string(unused.empty() ? "" : ", ") + e->key;
  av_dict_free(&dict);
  if (!unused.empty()) return Status::Error(fmt::format("{}: option not understood by the '{}' input: {}", info_.name, fmt_->iformat->name, unused));

  // A stream of still images (jpeg_pipe on stdin, mpjpeg over HTTP) is decoded by
  // personcls: probing its frames only needs to set up the parser that splits them, not to
  // wait for a frame-rate estimate over many frames.
  if (fmt_->nb_streams == 1 && IsImageCodec(fmt_->streams[0]->codecpar->codec_id)) {
    fmt_->fps_probe_size = 0;
    fmt_->max_analyze_duration = 1;
  }
  err = avformat_find_stream_info(fmt_.get(), nullptr);
  if (err < 0) {
    if (timed_out_) return Status::Error(fmt::format("{}: cannot read stream information: no data for {} s (stalled)", info_.name, options_.timeout));
    return Failure("cannot read stream information", err);
  }
  const AVCodec* codec = nullptr;
  stream_ = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream_ == AVERROR_STREAM_NOT_FOUND) return Status::Error(info_.name + ": no video stream");
  if (stream_ < 0) {
    const int first_video = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    const char* name = first_video >= 0 ? avcodec_get_name(fmt_->streams[first_video]->codecpar->codec_id) : "?";
    return Status::Error(fmt::format("{}: no decoder for video codec '{}'", info_.name, name));
  }
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != stream_) fmt_->streams[i]->discard = AVDISCARD_ALL;
  const AVStream* st = fmt_->streams[stream_];
  time_base_ = st->time_base;
  info_.format = fmt_->iformat->name;
  info_.codec = avcodec_get_name(st->codecpar->codec_id);
  info_.width = st->codecpar->width;
  info_.height = st->codecpar->height;
  const AVRational rate = av_guess_frame_rate(fmt_.get(), const_cast<AVStream*>(st), nullptr);
  info_.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
  if (info_.fps > 0 && info_.fps <= 1000) period_ = 1.0 / info_.fps;
  if (info_.kind == SourceKind::kFile && fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0)
    info_.duration = static_cast<double>(fmt_->duration) / AV_TIME_BASE;

  image_codec_ = IsImageCodec(st->codecpar->codec_id);
  if (!image_codec_) {
    decoder_.reset(avcodec_alloc_context3(codec));
    if (!decoder_) return Status::Error(info_.name + ": out of memory");
    err = avcodec_parameters_to_context(decoder_.get(), st->codecpar);
    if (err < 0) return Failure("cannot set up the decoder", err);
    decoder_->pkt_timebase = time_base_;
    decoder_->max_pixels = kMaxImagePixels;  // a crafted header cannot make it allocate more
    // One decoding thread: the reader thread already runs beside inference, and frame
    // threading would add frames of latency on a live source.
    decoder_->thread_count = 1;
    err = avcodec_open2(decoder_.get(), codec, nullptr);
    if (err < 0) return Failure(fmt::format("cannot open the {} decoder", info_.codec), err);
  }
  if (!frame_ || !packet_ || !image_packet_) return Status::Error(info_.name + ": out of memory");
  deadline_on_ = false;
  return Status::Ok();
}

double FfmpegSource::FrameTime(int64_t ts) {
  double t;
  if (!have_last_) first_wall_ = Clock::now();
  if (ts == AV_NOPTS_VALUE) {
    // No timestamp: a live source is timed by arrival, anything else by the nominal rate.
    const bool live = info_.kind == SourceKind::kNetwork || info_.kind == SourceKind::kDevice;
    t = !have_last_ ? 0.0 : live ? std::max(last_time_, std::chrono::duration<double>(Clock::now() - first_wall_).count()) : last_time_ + period_;
  } else {
    if (!have_first_ts_) {
      first_ts_ = ts;
      have_first_ts_ = true;
    }
    t = static_cast<double>(ts - first_ts_) * av_q2d(time_base_) + offset_;
    if (have_last_ && t < last_time_) {  // a jump back (discontinuity, wrap): continue from the last frame
      offset_ += last_time_ + period_ - t;
      t = last_time_ + period_;
    }
  }
  last_time_ = t;
  have_last_ = true;
  return t;
}

Expected<ReadOutcome> FfmpegSource::Next(double* time, int64_t* index) {
  have_frame_ = false;
  for (;;) {
    if (decoder_) {
      const int r = avcodec_receive_frame(decoder_.get(), frame_.get());
      if (r == 0) {
        if (frame_->decode_error_flags || (frame_->flags & AV_FRAME_FLAG_CORRUPT))
          NoteCorrupt(fmt::format("{}: frame {} decoded with errors (damaged data; concealed)", info_.name, decoded_));
        *time = FrameTime(frame_->best_effort_timestamp);
        *index = decoded_++;
        have_frame_ = true;
        return ReadOutcome::kFrame;
      }
      if (r == AVERROR_EOF || flushing_) return ReadOutcome::kEnd;
      if (r != AVERROR(EAGAIN)) NoteCorrupt(fmt::format("{}: decoding error: {}", info_.name, AvError(r)));
    }
    ArmDeadline();
    const int r = av_read_frame(fmt_.get(), packet_.get());
    deadline_on_ = false;
    if (r < 0) {
      if (UserInterrupted()) return ReadOutcome::kInterrupted;
      if (timed_out_) return Status::Error(fmt::format("{}: no data for {} s (stalled)", info_.name, options_.timeout));
      // A network stream of unknown length (an MJPEG camera, a live HTTP stream) ends by
      // closing the connection, which FFmpeg's http reports as EIO: an end, not a failure.
      const bool closed = r == AVERROR(EIO) && info_.kind == SourceKind::kNetwork;
      if (r != AVERROR_EOF && !closed) {
        const Status error = Failure("read error", r);
        // A file or pipe that cannot be read further ends here: its frames so far count.
        if (info_.kind != SourceKind::kFile && info_.kind != SourceKind::kStdin) return error;
        if (options_.warn) options_.warn(error.message() + "; stopping there");
      }
      if (decoder_ && !flushing_) {
        avcodec_send_packet(decoder_.get(), nullptr);  // drain the frames still inside
        flushing_ = true;
        continue;
      }
      return ReadOutcome::kEnd;
    }
    if (packet_->stream_index != stream_) {
      av_packet_unref(packet_.get());
      continue;
    }
    if (packet_->flags & AV_PKT_FLAG_CORRUPT) {  // e.g. cut short by the end of a truncated file
      NoteCorrupt(fmt::format("{}: damaged packet skipped (frame {})", info_.name, decoded_));
      av_packet_unref(packet_.get());
      continue;
    }
    if (image_codec_) {
      av_packet_unref(image_packet_.get());
      av_packet_move_ref(image_packet_.get(), packet_.get());
      *time = FrameTime(image_packet_->pts != AV_NOPTS_VALUE ? image_packet_->pts : image_packet_->dts);
      *index = decoded_++;
      have_frame_ = true;
      return ReadOutcome::kFrame;
    }
    const int sent = avcodec_send_packet(decoder_.get(), packet_.get());
    av_packet_unref(packet_.get());
    if (sent < 0 && sent != AVERROR(EAGAIN))
      NoteCorrupt(fmt::format("{}: packet rejected by the {} decoder: {}", info_.name, info_.codec, AvError(sent)));
  }
}

Status FfmpegSource::Convert(Image* image) {
  assert(have_frame_ && "Convert() without a frame from Next()");
  const int64_t index = decoded_ - 1;
  if (image_codec_) {
    auto decoded = DecodeImage(image_packet_->data, static_cast<size_t>(image_packet_->size), fmt::format("{} frame {}", info_.name, index));
    if (!decoded.ok()) {
      NoteCorrupt(decoded.status().message());
      return decoded.status();
    }
    *image = decoded->channels == 3 ? std::move(decoded).value() : ToRgb(*decoded);
    return Status::Ok();
  }
  const int w = frame_->width, h = frame_->height;
  if (w <= 0 || h <= 0 || static_cast<int64_t>(w) * h > kMaxImagePixels)
    return Status::Error(fmt::format("{}: frame {} has an unusable size {}x{}", info_.name, index, w, h));
  bool full_range = false;
  const AVPixelFormat format = PlainPixelFormat(static_cast<AVPixelFormat>(frame_->format), &full_range);
  full_range |= frame_->color_range == AVCOL_RANGE_JPEG;
  // Full chroma interpolation, without SWS_ACCURATE_RND: that flag selects swscale's plain C
  // paths, several times slower than decoding the frame (bench/RESULTS.md, "watch").
  SwsContext* ctx = sws_getCachedContext(sws_.release(), w, h, format, w, h, AV_PIX_FMT_RGB24,
                                         SWS_BILINEAR | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
  sws_.reset(ctx);
  if (!ctx)
  {
    const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame_->format));
    return Status::Error(fmt::format("{}: frame {}: cannot convert pixel format {} to RGB", info_.name, index, name ? name : "?"));
  }
  const int key[5] = {w, h, format, frame_->colorspace, full_range};
  if (!std::equal(key, key + 5, sws_key_)) {
    // The source's matrix (BT.601 when unspecified) and range, to full-range RGB.
    sws_setColorspaceDetails(ctx, sws_getCoefficients(frame_->colorspace), full_range, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0,
                             1 << 16, 1 << 16);
    std::copy(key, key + 5, sws_key_);
  }
  image->width = w;
  image->height = h;
  image->channels = 3;
  image->pixels.resize(static_cast<size_t>(w) * h * 3);
  uint8_t* dst[4] = {image->pixels.data(), nullptr, nullptr, nullptr};
  int dst_stride[4] = {3 * w, 0, 0, 0};
  sws_scale(ctx, frame_->data, frame_->linesize, 0, h, dst, dst_stride);
  return Status::Ok();
}

}  // namespace

Expected<std::unique_ptr<FrameSource>> OpenSource(const std::string& source, const SourceOptions& options) {
  auto s = std::make_unique<FfmpegSource>(source, options);
  PCLS_RETURN_IF_ERROR(s->Open());
  return std::unique_ptr<FrameSource>(std::move(s));
}

}  // namespace personcls::video
