// Measuring what a reader allocates, for the "memory bounded by the input" tests.
//
// PCLS_DEFINE_ALLOC_PROBE() replaces the global operator new/delete (all forms) of the
// test binary it is expanded in, once, with malloc-based versions that keep the bytes
// currently allocated and their peak. AllocationPeakSince() then says how far a piece of
// code pushed the heap above where it started:
//
//   const AllocationMark mark = MarkAllocations();
//   auto r = Read(bytes);
//   EXPECT_LT(AllocationPeakSince(mark), 2 << 20);
//
// Only operator new is seen (every C++ container; not C libraries' own malloc calls).
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace personcls::testing {

struct AllocationCounters {
  std::atomic<int64_t> current{0};
  std::atomic<int64_t> peak{0};
};

inline AllocationCounters& Allocations() {
  static AllocationCounters counters;
  return counters;
}

struct AllocationMark {
  int64_t start;
};

// Starts a measurement: the peak restarts from the current level.
inline AllocationMark MarkAllocations() {
  AllocationCounters& c = Allocations();
  const int64_t now = c.current.load();
  c.peak.store(now);
  return {now};
}

// Bytes by which the heap rose above the mark at its highest since then.
inline int64_t AllocationPeakSince(const AllocationMark& mark) { return Allocations().peak.load() - mark.start; }

inline void* ProbeAllocate(std::size_t size, std::size_t align) {
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(size ? size : 1);
  } else if (posix_memalign(&p, align, size ? size : 1) != 0) {
    p = nullptr;
  }
  if (p == nullptr) return nullptr;
  AllocationCounters& c = Allocations();
  const int64_t now = c.current.fetch_add(static_cast<int64_t>(malloc_usable_size(p))) + static_cast<int64_t>(malloc_usable_size(p));
  int64_t peak = c.peak.load();
  while (now > peak && !c.peak.compare_exchange_weak(peak, now)) {
  }
  return p;
}

inline void ProbeFree(void* p) {
  if (p == nullptr) return;
  Allocations().current.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)));
  std::free(p);
}

}  // namespace personcls::testing

#define PCLS_DEFINE_ALLOC_PROBE()                                                                                           \
  void* operator new(std::size_t n) {                                                                                       \
    if (void* p = ::personcls::testing::ProbeAllocate(n, 0)) return p;                                                      \
    throw std::bad_alloc();                                                                                                 \
  }                                                                                                                         \
  void* operator new[](std::size_t n) { return ::operator new(n); }                                                        \
  void* operator new(std::size_t n, std::align_val_t a) {                                                                   \
    if (void* p = ::personcls::testing::ProbeAllocate(n, static_cast<std::size_t>(a))) return p;                            \
    throw std::bad_alloc();                                                                                                 \
  }                                                                                                                         \
  void* operator new[](std::size_t n, std::align_val_t a) { return ::operator new(n, a); }                                 \
  void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return ::personcls::testing::ProbeAllocate(n, 0); }   \
  void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return ::personcls::testing::ProbeAllocate(n, 0); } \
  void operator delete(void* p) noexcept { ::personcls::testing::ProbeFree(p); }                                            \
  void operator delete[](void* p) noexcept { ::personcls::testing::ProbeFree(p); }                                          \
  void operator delete(void* p, std::size_t) noexcept { ::personcls::testing::ProbeFree(p); }                               \
  void operator delete[](void* p, std::size_t) noexcept { ::personcls::testing::ProbeFree(p); }                             \
  void operator delete(void* p, std::align_val_t) noexcept { ::personcls::testing::ProbeFree(p); }                          \
  void operator delete[](void* p, std::align_val_t) noexcept { ::personcls::testing::ProbeFree(p); }                        \
  void operator delete(void* p, std::size_t, std::align_val_t) noexcept { ::personcls::testing::ProbeFree(p); }             \
  void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { ::personcls::testing::ProbeFree(p); }           \
  void operator delete(void* p, const std::nothrow_t&) noexcept { ::personcls::testing::ProbeFree(p); }                     \
  void operator delete[](void* p, const std::nothrow_t&) noexcept { ::personcls::testing::ProbeFree(p); }
