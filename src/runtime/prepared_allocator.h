// PreparedAllocator: where the runtime core puts everything prepare computes (per-op
// parameters, requantization tables, tensor data pointers) for the lifetime of an
// interpreter.
//
// The core never calls malloc/new. On a microcontroller the caller hands it a buffer
// (BufferAllocator; no heap at all); the PC Interpreter uses a heap-backed allocator.
// Memory is handed out bump-style and never freed individually: it is released with the
// buffer (or the PC allocator) when the interpreter is gone. Only trivially destructible
// types are created in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace personcls {

class PreparedAllocator {
 public:
  // `bytes` of memory aligned to `align` (a power of two), or nullptr when exhausted.
  virtual void* Allocate(size_t bytes, size_t align) = 0;
  // Bytes handed out so far, alignment padding included.
  virtual size_t used() const = 0;

  // A value-initialized T (or nullptr). T must not need a destructor.
  template <typename T>
  T* Create() {
    static_assert(std::is_trivially_destructible_v<T>, "prepared data is never destroyed");
    void* p = Allocate(sizeof(T), alignof(T));
    return p ? new (p) T() : nullptr;
  }
  // n value-initialized Ts (or nullptr; n == 0 gives a valid pointer).
  template <typename T>
  T* CreateArray(size_t n) {
    static_assert(std::is_trivially_destructible_v<T>, "prepared data is never destroyed");
    void* p = Allocate(n * sizeof(T) + (n == 0), alignof(T));
    if (!p) return nullptr;
    T* array = static_cast<T*>(p);
    for (size_t i = 0; i < n; ++i) new (array + i) T();
    return array;
  }

 protected:
  ~PreparedAllocator() = default;  // not deleted through this interface
};

// Bump allocation from a caller-owned buffer (the no-heap mode).
class BufferAllocator final : public PreparedAllocator {
 public:
  BufferAllocator(void* buffer, size_t bytes) : base_(static_cast<uint8_t*>(buffer)), capacity_(bytes) {}
  void* Allocate(size_t bytes, size_t align) override {
    const uintptr_t begin = reinterpret_cast<uintptr_t>(base_) + used_;
    const size_t pad = (align - begin % align) % align;
    if (!base_ || pad + bytes > capacity_ - used_) {
      wanted_ = used_ + pad + bytes;
      return nullptr;
    }
    used_ += pad + bytes;
    return base_ + used_ - bytes;
  }
  size_t used() const override { return used_; }
  size_t capacity() const { return capacity_; }
  // After a failed Allocate: the bytes that request would have needed in total.
  size_t wanted() const { return wanted_; }

 private:
  uint8_t* base_;
  size_t capacity_;
  size_t used_ = 0;
  size_t wanted_ = 0;
};

}  // namespace personcls
