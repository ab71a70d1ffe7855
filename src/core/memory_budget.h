// MemoryBudget: how much a reader may allocate for one untrusted file, so that no file can
// exhaust memory, whatever sizes it declares.
//
// The limit is kFloorBytes + kPerFileByte x the file's size (64 MiB + 4 x the size): a
// 521-byte .pth may allocate 64 MiB, a 40 MB checkpoint 224 MB. Real files stay far below
// it (a torch.save checkpoint needs about 1 x its size for the storages plus 1 x for the
// tensors). Readers charge what a file's declarations make them allocate (zip entries,
// tensor copies, pickle values, ONNX protobuf objects) *before* allocating, and turn a
// refusal into one error line naming the file. The file's own bytes are not charged.
//
// GuardAllocation turns an allocation failure anywhere in a reader (std::bad_alloc, or
// std::length_error for a size no vector can hold) into the same kind of line, so that a
// process under a memory limit still fails with the file's name.
//
// Not thread-safe: one budget per file being read, used by one thread.
#pragma once

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "personcls/status.h"

namespace personcls {

class MemoryBudget {
 public:
  static constexpr uint64_t kFloorBytes = uint64_t{64} << 20;
  static constexpr uint64_t kPerFileByte = 4;

  explicit MemoryBudget(uint64_t file_bytes);
  // A budget of exactly `limit` bytes (tests of the accounting itself).
  static MemoryBudget WithLimit(uint64_t limit);

  // Takes `bytes` from the budget; false (and nothing taken) when that would pass the limit.
  bool TryTake(uint64_t bytes);
  // TryTake, or an error "WHAT needs N bytes, past the memory limit of this file (L bytes:
  // 64 MiB + 4 x its size)". The caller adds the file name.
  Status Take(uint64_t bytes, const std::string& what);
  std::string RefusalMessage(uint64_t bytes, const std::string& what) const;

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
};

// "NAME: out of memory while reading (...)": the line for an allocation that failed.
Status OutOfMemoryError(const std::string& name, const std::exception& e);

// Runs `read` (returning Status or Expected<T>); an allocation failure inside becomes
// OutOfMemoryError(name).
template <typename F>
auto GuardAllocation(const std::string& name, F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const std::bad_alloc& e) {
    return OutOfMemoryError(name, e);
  } catch (const std::length_error& e) {
    return OutOfMemoryError(name, e);
  }
}

}  // namespace personcls
