// A private scratch directory for fuzz targets whose readers take file names (labels.csv,
// the image cache): created once per process under $TMPDIR (or /tmp), reused for every
// input, removed at exit.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

inline const std::string& FuzzTempDir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/personcls_fuzz_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) __builtin_trap();
    static std::string cleanup = pattern;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(cleanup, ec);
    });
    return pattern;
  }();
  return dir;
}

inline void WriteFuzzFile(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
}
