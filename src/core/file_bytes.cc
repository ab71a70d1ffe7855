#include "core/file_bytes.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/memory_budget.h"

namespace personcls {

Expected<std::vector<uint8_t>> ReadBinaryFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return Status::Error(path + ": is a directory");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  return GuardAllocation(path, [&]() -> Expected<std::vector<uint8_t>> {
    // Grown as data arrives (not from a size asked beforehand): a file that grows or lies
    // about its size still reads as what it holds.
    std::vector<uint8_t> bytes;
    uint8_t chunk[1 << 16];
    size_t got;
    while ((got = std::fread(chunk, 1, sizeof(chunk), f.get())) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
    if (std::ferror(f.get())) return Status::Error(path + ": read error");
    return bytes;
  });
}

}  // namespace personcls
