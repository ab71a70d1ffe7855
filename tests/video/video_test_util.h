// Helpers for the video tests: writing media with libavcodec (through VideoWriter),
// reading every frame of a source, feeding stdin from a pipe, and a loopback HTTP server.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "data/image_encoders.h"
#include "video/source.h"
#include "video/video_writer.h"

namespace personcls::testing {

// JPEG options as cameras send them: 4:2:0 at `quality`.
inline JpegOptions JpegQ(int quality) {
  JpegOptions o;
  o.quality = quality;
  o.subsample = true;
  return o;
}

// Writes `frames` at `fps` (frame i at time i / fps).
inline void WriteVideo(const std::string& path, const std::vector<Image>& frames, double fps, video::WriterOptions options = {}) {
  ASSERT_FALSE(frames.empty());
  options.fps = fps;
  auto writer = video::VideoWriter::Open(path, frames[0].width, frames[0].height, options);
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  for (size_t i = 0; i < frames.size(); ++i) ASSERT_TRUE((*writer)->Write(frames[i], i / fps).ok());
  const Status closed = (*writer)->Close();
  ASSERT_TRUE(closed.ok()) << closed.message();
}

struct ReadResult {
  std::vector<video::VideoFrame> frames;
  Status end;                // error that ended reading (ok at kEnd)
  int64_t corrupt = 0;
  std::vector<std::string> warnings;
};

// Reads until the end or an error, converting every frame; undecodable frames are left out.
inline ReadResult ReadAllFrames(const std::string& source, video::SourceOptions options = {}) {
  ReadResult r;
  options.warn = [&r](const std::string& m) { r.warnings.push_back(m); };
  auto s = video::OpenSource(source, options);
  if (!s.ok()) {
    r.end = s.status();
    return r;
  }
  for (;;) {
    video::VideoFrame f;
    auto outcome = (*s)->Next(&f.time, &f.index);
    if (!outcome.ok()) {
      r.end = outcome.status();
      break;
    }
    if (*outcome != video::ReadOutcome::kFrame) break;
    if ((*s)->Convert(&f.image).ok()) r.frames.push_back(std::move(f));
  }
  r.corrupt = (*s)->corrupt_packets();
  return r;
}

// Makes a pipe the process's stdin while alive; a thread writes `bytes`, then either
// closes the pipe (EOF) or, with hold_open, keeps it open (a stalled producer) until the
// object is destroyed.
class StdinFeed {
 public:
  StdinFeed(std::vector<uint8_t> bytes, bool hold_open) : bytes_(std::move(bytes)) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    saved_ = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    write_fd_ = fds[1];
    writer_ = std::thread([this, hold_open] {
      size_t done = 0;
      while (done < bytes_.size()) {
        const ssize_t n = write(write_fd_, bytes_.data() + done, bytes_.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      if (!hold_open) CloseWriter();
    });
  }
  ~StdinFeed() {
    writer_.join();
    CloseWriter();
    dup2(saved_, STDIN_FILENO);
    close(saved_);
  }

 private:
  void CloseWriter() {
    const int fd = write_fd_.exchange(-1);
    if (fd >= 0) close(fd);
  }
  std::vector<uint8_t> bytes_;
  int saved_ = -1;
  std::atomic<int> write_fd_{-1};
  std::thread writer_;
};

// An HTTP server on 127.0.0.1 (ephemeral port) for one test. Each accepted connection is
// handed, after its request headers were read, to handler(connection number, socket).
// The handler writes with SendAll and returns to close the connection.
class LoopbackHttpServer {
 public:
  using Handler = std::function<void(int connection, int fd)>;
  explicit LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackHttpServer() {
    stop_.store(true);
    thread_.join();
    close(listen_fd_);
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "/stream") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  bool stopping() const { return stop_.load(); }
  int connections() const { return connections_.load(); }

  // Writes everything unless the peer went away (no SIGPIPE); false then.
  static bool SendAll(int fd, const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (size > 0) {
      const ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      p += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  static bool SendAll(int fd, const std::string& s) { return SendAll(fd, s.data(), s.size()); }

 private:
  void Serve() {
    while (!stop_.load()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      // Read the request up to the blank line.
      std::string request;
      char c;
      while (request.find("\r\n\r\n") == std::string::npos && recv(fd, &c, 1, 0) == 1) request += c;
      handler_(connections_.fetch_add(1), fd);
      close(fd);
    }
  }
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// An IP camera's MJPEG over HTTP: multipart/x-mixed-replace, one JPEG per part.
inline bool SendMjpegHeader(int fd) {
  return LoopbackHttpServer::SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n"
                                         "Cache-Control: no-cache\r\nConnection: close\r\n\r\n");
}
inline bool SendMjpegPart(int fd, const std::vector<uint8_t>& jpeg) {
  const std::string head = "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + std::to_string(jpeg.size()) + "\r\n\r\n";
  return LoopbackHttpServer::SendAll(fd, head) && LoopbackHttpServer::SendAll(fd, jpeg.data(), jpeg.size()) &&
         LoopbackHttpServer::SendAll(fd, "\r\n");
}

}  // namespace personcls::testing
