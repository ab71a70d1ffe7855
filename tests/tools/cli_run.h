// Running build/personcls from tests, as a user would: exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace personcls::testing {

struct RunResult {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline RunResult RunCli(const std::string& args) {
  // Output files go next to (not into) the test's TempDir(), which callers fill with inputs.
  static int call = 0;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string tag = std::string(info->test_suite_name()) + "." + info->name() + "." + std::to_string(call++);
  for (char& c : tag)
    if (c == '/') c = '_';
  const std::string dir = std::string(PERSONCLS_BINARY_DIR) + "/test_tmp/cli_runs/" + tag;
  std::filesystem::create_directories(dir);
  const std::string cmd = std::string(PERSONCLS_BINARY_DIR) + "/personcls " + args + " >" + dir + "/out 2>" + dir + "/err";
  const int status = std::system(cmd.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir + "/out"), slurp(dir + "/err")};
}

// A failed run that printed exactly one error line containing `fragment`, and did not die
// of an uncaught exception.
inline void ExpectCliError(const RunResult& r, const std::string& fragment) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

}  // namespace personcls::testing
