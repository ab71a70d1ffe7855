#include "core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/fault_injection.h"

namespace personcls {

AtomicFile::~AtomicFile() { Discard(); }

void AtomicFile::Discard() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (!temp_path_.empty()) std::remove(temp_path_.c_str());
  temp_path_.clear();
}

Status AtomicFile::Fail(const std::string& what) {
  Status status = Status::Error(path_ + ": " + what + ": " + std::strerror(errno));
  Discard();
  return status;
}

Status AtomicFile::Open(const std::string& path) {
  Discard();
  path_ = path;
  temp_path_ = path + ".tmp" + std::to_string(::getpid());
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (file_ == nullptr) {
    temp_path_.clear();
    return Status::Error(path_ + ": cannot create: " + std::strerror(errno));
  }
  return Status::Ok();
}

Status AtomicFile::Write(const void* data, size_t size) {
  if (file_ == nullptr) return Status::Error(path_ + ": not open for writing");
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) return Fail("write failed");
  return Status::Ok();
}

Status AtomicFile::WriteAt(uint64_t offset, const void* data, size_t size) {
  if (file_ == nullptr) return Status::Error(path_ + ": not open for writing");
  if (fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0) return Fail("seek failed");
  PCLS_RETURN_IF_ERROR(Write(data, size));
  if (fseeko(file_, 0, SEEK_END) != 0) return Fail("seek failed");
  return Status::Ok();
}

Status AtomicFile::Commit() {
  if (file_ == nullptr) return Status::Error(path_ + ": not open for writing");
  KillPointBeforeCommit();  // test hook: dies here only under PERSONCLS_KILL_AT_COMMIT
  if (std::fflush(file_) != 0) return Fail("write failed");
  // fsync before rename: otherwise a power loss can leave the new name on empty data.
  if (::fsync(fileno(file_)) != 0) return Fail("fsync failed");
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) return Fail("close failed");
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) return Fail("cannot rename into place");
  temp_path_.clear();
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, const std::string& contents) {
  AtomicFile file;
  PCLS_RETURN_IF_ERROR(file.Open(path));
  PCLS_RETURN_IF_ERROR(file.Write(contents));
  return file.Commit();
}

}  // namespace personcls
