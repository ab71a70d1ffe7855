// AtomicFile: writes a file under a temporary name beside the target and renames it into
// place on Commit(), so a reader never sees a half-written file and a crash or an error
// leaves any previous file untouched. The temporary ("PATH.tmp<pid>") is removed when the
// object is destroyed without a successful Commit().
//
// Errors are one line naming the target path ("out/train.pcache: write failed: No space
// left on device"). Not thread-safe; one writer per object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "personcls/status.h"

namespace personcls {

class AtomicFile {
 public:
  AtomicFile() = default;
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Creates the temporary file (truncating a stale one of the same name).
  Status Open(const std::string& path);
  Status Write(const void* data, size_t size);
  Status Write(const std::string& text) { return Write(text.data(), text.size()); }
  // Overwrites bytes already written (e.g. a header whose count is known only at the end);
  // the write position returns to the end afterwards.
  Status WriteAt(uint64_t offset, const void* data, size_t size);
  // Flushes, closes and renames the temporary onto the target path.
  Status Commit();

  const std::string& path() const { return path_; }

 private:
  Status Fail(const std::string& what);
  void Discard();

  std::string path_, temp_path_;
  std::FILE* file_ = nullptr;
};

// Writes `contents` to `path` atomically (AtomicFile in one call).
Status WriteFileAtomic(const std::string& path, const std::string& contents);

}  // namespace personcls
