#include "video/ffmpeg_util.h"

extern "C" {
#include <libavdevice/avdevice.h>
}

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "video/source.h"

namespace personcls::video {

namespace {

std::atomic<bool> g_print_log{false};
std::mutex g_log_mu;
std::string g_last_error;  // guarded by g_log_mu

void LogCallback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > AV_LOG_ERROR && !g_print_log.load()) return;
  char line[1024];
  int print_prefix = 1;
  va_list copy;
  va_copy(copy, vl);
  av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
  if (level <= AV_LOG_ERROR) {
    // Kept without FFmpeg's "[mov,mp4,... @ 0x55...] " prefix, for one-line messages.
    char bare[1024];
    int no_prefix = 0;
    av_log_format_line2(nullptr, level, fmt, copy, bare, sizeof(bare), &no_prefix);
    std::string text(bare);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    std::lock_guard<std::mutex> lock(g_log_mu);
    g_last_error = std::move(text);
  }
  va_end(copy);
  if (g_print_log.load() && level <= av_log_get_level()) std::fputs(line, stderr);
}

}  // namespace

std::string AvError(int err) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, text, sizeof(text));
  return text;
}

void InitFfmpeg() {
  static std::once_flag once;
  std::call_once(once, [] {
    avdevice_register_all();
    avformat_network_init();
    av_log_set_callback(LogCallback);
  });
}

std::string LastFfmpegError() {
  std::lock_guard<std::mutex> lock(g_log_mu);
  return g_last_error;
}

void ClearFfmpegError() {
  std::lock_guard<std::mutex> lock(g_log_mu);
  g_last_error.clear();
}

void SetFfmpegLogging(bool print) {
  InitFfmpeg();
  g_print_log.store(print);
  av_log_set_level(print ? AV_LOG_INFO : AV_LOG_ERROR);
}

AVPixelFormat PlainPixelFormat(AVPixelFormat format, bool* full_range) {
  *full_range = true;
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: return AV_PIX_FMT_YUV411P;
    default: *full_range = false; return format;
  }
}

}  // namespace personcls::video
