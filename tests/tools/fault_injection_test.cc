// Crash safety of `train` and `distill`: the process is killed with SIGKILL (no chance to
// clean up) inside every checkpoint write it makes (PERSONCLS_KILL_AT_COMMIT, see
// src/core/fault_injection.h) and at random moments, then continued with --resume until
// it finishes. The final weights must be byte-identical to an uninterrupted run's, and
// after every kill each file in the run directory must be whole: every .safetensors
// parses, and (train) every log.csv line is complete.
//
// Small on purpose (12 images; train at 16x16 for 3 epochs, distill at 96x96 for 2
// epochs of 3 steps), so that the dozens of runs stay within CI's budget.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "formats/safetensors/safetensors.h"
#include "test_util.h"

namespace personcls {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  bool killed = false;  // ended by SIGKILL
  int exit_code = -1;   // when it exited
  double seconds = 0;
};

// Runs build/personcls with `args`; PERSONCLS_KILL_AT_COMMIT=kill_at when > 0; SIGKILL
// after kill_after_ms when > 0. Output goes to `log`.
Outcome RunPersoncls(const std::vector<std::string>& args, int kill_at, int kill_after_ms, const std::string& log) {
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    if (kill_at > 0) setenv("PERSONCLS_KILL_AT_COMMIT", std::to_string(kill_at).c_str(), 1);
    if (FILE* f = std::freopen(log.c_str(), "w", stdout)) dup2(fileno(f), 2);
    std::vector<std::string> argv_strings = {std::string(PERSONCLS_BINARY_DIR) + "/personcls"};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  if (kill_after_ms > 0) {
    const auto deadline = t0 + std::chrono::milliseconds(kill_after_ms);
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  } else {
    waitpid(pid, &status, 0);
  }
  Outcome o;
  o.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return o;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every file a killed run left must be whole: .safetensors files parse (temporaries
// "NAME.tmpPID" may stay behind; they are not the files), and a train log has only
// complete lines of its header's width.
void ExpectNothingTorn(const std::string& run, bool check_log) {
  if (!fs::exists(run)) return;  // killed before it made its directory
  for (const auto& entry : fs::directory_iterator(run)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".safetensors") {
      auto f = safetensors::ReadFile(entry.path().string());
      EXPECT_TRUE(f.ok()) << name << ": " << f.status().message();
    }
  }
  if (!check_log || !fs::exists(run + "/log.csv")) return;
  const std::string log = ReadText(run + "/log.csv");
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back(), '\n') << "torn last line: " << log;
  std::istringstream lines(log);
  std::string line;
  std::getline(lines, line);
  const auto fields = std::count(line.begin(), line.end(), ',');
  while (std::getline(lines, line)) EXPECT_EQ(std::count(line.begin(), line.end(), ','), fields) << line;
}

void WritePpm(const std::string& path, int label, int seed, int side) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << side << " " << side << "\n255\n";
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      const int s = side / 16;
      const bool square = label && y >= (2 + seed % 8) * s && y < (8 + seed % 8) * s && x >= (3 + seed % 7) * s && x < (9 + seed % 7) * s;
      for (int c = 0; c < 3; ++c) out.put(static_cast<char>(square ? 230 : (x * 7 + y * 13 + seed * 31 + c) % 50));
    }
}

// DIR/train/<class>/*.ppm (12) and DIR/val/labels.csv (6).
void WriteData(const std::string& dir, int side) {
  fs::create_directories(dir + "/train/0_background");
  fs::create_directories(dir + "/train/1_person");
  fs::create_directories(dir + "/val");
  std::ofstream labels(dir + "/val/labels.csv");
  labels << "file,label\n";
  for (int i = 0; i < 12; ++i) {
    WritePpm(dir + "/train/" + (i % 2 ? "1_person/" : "0_background/") + std::to_string(i) + ".ppm", i % 2, i, side);
    if (i < 6) {
      WritePpm(dir + "/val/" + std::to_string(i) + ".ppm", i % 2, i + 20, side);
      labels << i << ".ppm," << i % 2 << "\n";
    }
  }
}

// A command whose run directory follows "--out" (fresh: --force starts over in a directory
// that a killed run left without a state file) or its resume form.
struct Command {
  std::vector<std::string> args;            // without the run directory
  std::vector<std::string> resume_form;     // e.g. {"--resume", "RUN"}; "RUN" is replaced
  bool check_log = true;

  std::vector<std::string> fresh(const std::string& run) const { return With({"--force", "--out", "RUN"}, run); }
  std::vector<std::string> resume(const std::string& run) const { return With(resume_form, run); }

 private:
  std::vector<std::string> With(const std::vector<std::string>& form, const std::string& run) const {
    std::vector<std::string> a = args;
    for (const std::string& f : form) a.push_back(f == "RUN" ? run : f);
    return a;
  }
};

// Runs `cmd` to completion after a kill: resumes when a state file exists, else starts
// over (nothing was committed yet). More kills may follow through `kill_after_ms`.
Outcome Continue(const Command& cmd, const std::string& run, int kill_after_ms, const std::string& log) {
  const bool resumable = fs::exists(run + "/last_state.safetensors");
  return RunPersoncls(resumable ? cmd.resume(run) : cmd.fresh(run), 0, kill_after_ms, log);
}

void ExpectSameFiles(const std::string& run, const std::string& ref) {
  for (const char* f : {"last.safetensors", "best.safetensors"}) {
    if (!fs::exists(ref + "/" + f)) continue;
    EXPECT_TRUE(ReadText(run + "/" + f) == ReadText(ref + "/" + f)) << f << " differs from the uninterrupted run's";
  }
}

// The whole procedure for one command: reference, a kill inside each commit, random kills.
void KillEverywhereAndResume(const Command& cmd, const std::string& dir, int random_runs) {
  const std::string ref = dir + "/ref";
  const Outcome whole = RunPersoncls(cmd.fresh(ref), 0, 0, dir + "/ref.log");
  ASSERT_EQ(whole.exit_code, 0) << ReadText(dir + "/ref.log");
  ASSERT_TRUE(fs::exists(ref + "/last.safetensors"));

  // A kill inside the k-th commit (AtomicFile::Commit, before flush and rename), for every
  // k until a run has fewer commits than k.
  int commits = 0;
  for (int k = 1; k < 64; ++k) {
    SCOPED_TRACE("killed at commit " + std::to_string(k));
    const std::string run = dir + "/commit" + std::to_string(k);
    const Outcome o = RunPersoncls(cmd.fresh(run), k, 0, run + ".log");
    if (!o.killed) {
      ASSERT_EQ(o.exit_code, 0) << ReadText(run + ".log");
      break;
    }
    ++commits;
    ExpectNothingTorn(run, cmd.check_log);
    const Outcome done = Continue(cmd, run, 0, run + ".resume.log");
    ASSERT_EQ(done.exit_code, 0) << ReadText(run + ".resume.log");
    ExpectSameFiles(run, ref);
    fs::remove_all(run);
  }
  EXPECT_GE(commits, 4) << "the run wrote fewer checkpoints than expected";

  // Kills at random moments of the run, repeatedly, until it finishes.
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay(1, static_cast<int>(whole.seconds * 1000 * 1.2) + 1);
  for (int r = 0; r < random_runs; ++r) {
    const std::string run = dir + "/random" + std::to_string(r);
    int kills = 0;
    Outcome o = RunPersoncls(cmd.fresh(run), 0, delay(rng), run + ".log");
    while (o.killed && kills < 25) {
      ++kills;
      ExpectNothingTorn(run, cmd.check_log);
      o = Continue(cmd, run, delay(rng), run + ".log");
    }
    if (o.killed) o = Continue(cmd, run, 0, run + ".log");
    ASSERT_EQ(o.exit_code, 0) << ReadText(run + ".log");
    ExpectSameFiles(run, ref);
    fs::remove_all(run);
  }
}

TEST(FaultInjection, TrainKilledAnywhereResumesBitIdentical) {
  const std::string dir = testing::TempDir();
  WriteData(dir, 16);
  Command cmd;
  cmd.args = {"train", "--arch", "mbv2-rep-0.35", "--input", "16", "--epochs", "3", "--batch", "4", "--seed", "3", "--threads", "1",
              "--augment", "flip", "--data", dir + "/train", "--val", dir + "/val"};
  cmd.resume_form = {"--resume", "RUN"};
  KillEverywhereAndResume(cmd, dir, 3);
}

TEST(FaultInjection, DistillKilledAnywhereResumesBitIdentical) {
  const std::string dir = testing::TempDir();
  WriteData(dir, 96);
  // The teacher: a personcls checkpoint trained for one epoch on the same images.
  const Outcome teacher = RunPersoncls({"train", "--arch", "mbv2-rep-0.35", "--input", "96", "--epochs", "1", "--batch", "4", "--threads", "1",
                               "--data", dir + "/train", "--val", dir + "/val", "--out", dir + "/teacher"},
                              0, 0, dir + "/teacher.log");
  ASSERT_EQ(teacher.exit_code, 0) << ReadText(dir + "/teacher.log");
  Command cmd;
  cmd.args = {"distill", "--teacher", dir + "/teacher/last.safetensors", "--data", dir + "/train", "--val", dir + "/val",
              "--epochs", "2", "--batch", "4", "--seed", "5", "--threads", "1"};
  cmd.resume_form = {"--out", "RUN", "--resume"};
  // The distiller appends its log.csv itself (src/distill, not atomic); only its
  // checkpoints are checked here.
  cmd.check_log = false;
  KillEverywhereAndResume(cmd, dir, 2);
}

}  // namespace
}  // namespace personcls
