#include "core/memory_budget.h"

#include <limits>

namespace personcls {

MemoryBudget::MemoryBudget(uint64_t file_bytes) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  limit_ = file_bytes > (max - kFloorBytes) / kPerFileByte ? max : kFloorBytes + kPerFileByte * file_bytes;
}

MemoryBudget MemoryBudget::WithLimit(uint64_t limit) {
  MemoryBudget b(0);
  b.limit_ = limit;
  return b;
}

bool MemoryBudget::TryTake(uint64_t bytes) {
  if (bytes > limit_ - used_) return false;
  used_ += bytes;
  return true;
}

std::string MemoryBudget::RefusalMessage(uint64_t bytes, const std::string& what) const {
  return what + " needs " + std::to_string(bytes) + " bytes, past the memory limit of this file (" + std::to_string(limit_) +
         " bytes: 64 MiB + 4 x its size; " + std::to_string(used_) + " already used)";
}

Status MemoryBudget::Take(uint64_t bytes, const std::string& what) {
  if (TryTake(bytes)) return Status::Ok();
  return Status::Error(RefusalMessage(bytes, what));
}

Status OutOfMemoryError(const std::string& name, const std::exception& e) {
  return Status::Error(name + ": out of memory while reading this file (" + e.what() + ")");
}

}  // namespace personcls
