// build/personcls run as a child process whose stdout is read line by line while it runs,
// for tests that must act during a run (send SIGINT once enough frames were printed).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace personcls::testing {

class CliProcess {
 public:
  // Runs build/personcls with `args`; stderr goes to `err_path`.
  CliProcess(const std::vector<std::string>& args, const std::string& err_path) : err_path_(err_path) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    const std::string binary = std::string(PERSONCLS_BINARY_DIR) + "/personcls";
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(err, STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv{const_cast<char*>(binary.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];
  }
  ~CliProcess() {
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
  }

  // Reads stdout lines until done(line) is true (true), the output ends or `timeout_s`
  // passes (false).
  bool ReadUntil(const std::function<bool(const std::string&)>& done, double timeout_s) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
    for (;;) {
      size_t nl;
      while ((nl = buffer_.find('\n')) != std::string::npos) {
        lines.push_back(buffer_.substr(0, nl));
        buffer_.erase(0, nl + 1);
        if (done(lines.back())) return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      const ssize_t n = read(out_fd_, chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  void Signal(int sig) { kill(pid_, sig); }
  // Reads the rest of stdout and returns the exit code (-1 when killed by a signal).
  int Wait() {
    ReadUntil([](const std::string&) { return false; }, 60);
    int status = 0;
    waitpid(pid_, &status, 0);
    waited_ = true;
    std::ifstream in(err_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    err = ss.str();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::vector<std::string> lines;  // stdout so far
  std::string err;                 // stderr, after Wait()

 private:
  std::string err_path_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool waited_ = false;
  std::string buffer_;
};

}  // namespace personcls::testing
