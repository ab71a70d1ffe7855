// Helpers shared by all test binaries.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "personcls/status.h"

namespace personcls::testing {

// Absolute path of ../shared (from the repo root) and whether it exists.
std::string SharedDir();
bool HaveShared();
// Path inside ../shared.
std::string SharedPath(const std::string& relative);

// Skips the current test cleanly when ../shared (or the given file in it) is absent.
#define PCLS_REQUIRE_SHARED(relative)                                                  \
  do {                                                                                 \
    if (!::personcls::testing::FileExists(::personcls::testing::SharedPath(relative))) \
      GTEST_SKIP() << "needs ../shared/" << (relative) << " (absent)";                 \
  } while (0)

bool FileExists(const std::string& path);
std::vector<uint8_t> ReadFileBytes(const std::string& path);
void WriteFileBytes(const std::string& path, const std::vector<uint8_t>& bytes);
// A fresh empty directory under the build tree's temp area, unique per test.
std::string TempDir();

// A failure reported as one line that starts "NAME: " and contains `fragment`.
inline void ExpectErrorLine(const Status& s, const std::string& name, const std::string& fragment) {
  ASSERT_FALSE(s.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_EQ(s.message().rfind(name + ": ", 0), 0u) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
}

// Seed for randomized tests: --gtest_random_seed when given, else a fixed default.
// Use with PCLS_SEED_TRACE so a failure prints the seed to reproduce it.
uint32_t TestSeed();
#define PCLS_SEED_TRACE(seed) SCOPED_TRACE(::testing::Message() << "seed=" << (seed) << " (rerun with --gtest_random_seed=" << (seed) << ")")

}  // namespace personcls::testing
