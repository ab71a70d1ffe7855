// A fixed-size, 64-byte aligned, zero-initialized array owned by a fast kernel (packed
// weights, requantization tables).
//
// Deliberately not std::vector: the AVX2 translation units must not instantiate standard
// library templates that non-AVX2 code also instantiates, or the linker may keep the AVX2
// copy for everyone and break CPUs without AVX2.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace personcls::x86 {

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count) { Reset(count); }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  void Reset(size_t count) {
    std::free(data_);
    const size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
    data_ = static_cast<T*>(std::aligned_alloc(64, bytes > 0 ? bytes : 64));
    if (data_) std::memset(data_, 0, bytes > 0 ? bytes : 64);
    count_ = data_ ? count : 0;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

// Rounds `v` up to a multiple of `m`.
constexpr int RoundUp(int v, int m) { return (v + m - 1) / m * m; }

// Scratch sizes are rounded to whole cache lines so that consecutive sub-buffers start
// aligned.
constexpr size_t CacheLines(size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace personcls::x86
