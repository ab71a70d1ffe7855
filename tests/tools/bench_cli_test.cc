// personcls bench --profile, and processes with a worker thread exit cleanly.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_run.h"

namespace personcls {
namespace {

using testing::RunCli;

TEST(BenchCliTest, ProfileTimesEveryOp) {
  const testing::RunResult r = RunCli("bench --profile --json --runs 3 --warmup 1 --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const testing::RunResult info = RunCli("info --json --threads 2");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto ops = nlohmann::json::parse(info.out)["ops"];
  ASSERT_EQ(j["profile"].size(), ops.size());
  int folded = 0, pads = 0;
  double total = 0;
  for (size_t k = 0; k < ops.size(); ++k) {
    EXPECT_EQ(j["profile"][k]["kernel"], ops[k]["kernel"]) << "op " << k;
    EXPECT_GE(j["profile"][k]["median_ms"].get<double>(), 0.0);
    total += j["profile"][k]["median_ms"].get<double>();
    folded += j["profile"][k]["kernel"] == "pad_folded";
    pads += j["profile"][k]["op"] == "PAD";
  }
  EXPECT_GT(total, 0.0);
  // Every PAD of the default model precedes a VALID stride-2 convolution (3 at width 0.35,
  // 4 at width 0.5).
  EXPECT_GE(pads, 3);
  EXPECT_EQ(folded, pads) << "every PAD of the default model folds into its convolution";
}

// A process that created an interpreter with a worker thread and exits at once must not
// hang in the pool's destructor (the worker may start after the exit began).
TEST(BenchCliTest, ExitsPromptlyWithWorkerThreads) {
  const std::string cmd = "timeout 60 " + std::string(PERSONCLS_BINARY_DIR) + "/personcls info --threads 3 >/dev/null 2>&1";
  for (int i = 0; i < 20; ++i) ASSERT_EQ(std::system(cmd.c_str()), 0) << "run " << i << " failed or hung";
}

}  // namespace
}  // namespace personcls
