#include "test_util.h"

#include <filesystem>
#include <fstream>

namespace personcls::testing {

std::string SharedDir() { return PERSONCLS_SHARED_DIR; }
bool HaveShared() { return std::filesystem::is_directory(SharedDir()); }
std::string SharedPath(const std::string& relative) { return SharedDir() + "/" + relative; }

bool FileExists(const std::string& path) { return std::filesystem::exists(path); }

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void WriteFileBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "global";
  for (char& c : name)
    if (c == '/') c = '_';
  std::filesystem::path dir = std::filesystem::path(PERSONCLS_BINARY_DIR) / "test_tmp" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

uint32_t TestSeed() {
  // Only an explicit --gtest_random_seed changes the seed: CI runs are reproducible.
  const int flag = GTEST_FLAG_GET(random_seed);
  return flag != 0 ? static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed()) : 20261124u;
}

}  // namespace personcls::testing
