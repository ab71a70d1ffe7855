// A bounded, thread-safe FIFO between one producer (the reader thread) and one consumer
// (the inference loop). It never holds more than `capacity` items, so memory is bounded
// whatever the speeds:
//   * kBlock: Push waits for room (files: every frame is processed, reading slows down);
//   * kDropOldest: Push discards the oldest queued item to make room and says how many it
//     discarded (live sources: the consumer always gets the freshest frames, latency stays
//     at most `capacity` frames, and the dropped frames are counted).
// Close() is the producer's "no more items": Pop drains what is queued, then reports
// kClosed. Cancel() is the consumer's "stop now": a waiting Push returns at once.
// Items are moved in and out; the queue owns what it holds.
#pragma once

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace personcls::video {

template <typename T>
class BoundedQueue {
 public:
  enum class Full { kBlock, kDropOldest };
  enum class PopResult { kItem, kTimeout, kClosed };

  BoundedQueue(size_t capacity, Full policy) : capacity_(capacity), policy_(policy) { assert(capacity >= 1); }

  // Returns the number of items dropped to make room (always 0 for kBlock), or -1 when
  // the queue was cancelled or closed (the item is discarded).
  int Push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    if (policy_ == Full::kBlock) not_full_.wait(lock, [&] { return items_.size() < capacity_ || cancelled_ || closed_; });
    if (cancelled_ || closed_) return -1;
    int dropped = 0;
    while (items_.size() >= capacity_) {
      items_.pop_front();
      ++dropped;
    }
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return dropped;
  }

  // Waits up to `timeout` for an item. kClosed once closed and drained, or cancelled.
  PopResult Pop(T* out, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!not_empty_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_ || cancelled_; })) return PopResult::kTimeout;
    if (cancelled_ || items_.empty()) return PopResult::kClosed;
    *out = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return PopResult::kItem;
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  void Cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    items_.clear();
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }

 private:
  const size_t capacity_;
  const Full policy_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
  bool cancelled_ = false;
};

}  // namespace personcls::video
