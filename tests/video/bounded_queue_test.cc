#include "video/bounded_queue.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace personcls::video {
namespace {

using Queue = BoundedQueue<int>;
using std::chrono::milliseconds;

TEST(BoundedQueue, BlockingQueueDeliversEverythingInOrder) {
  Queue q(3, Queue::Full::kBlock);
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(q.Push(i), 0);
    q.Close();
  });
  std::vector<int> got;
  int v = 0;
  while (q.Pop(&v, milliseconds(1000)) == Queue::PopResult::kItem) {
    EXPECT_LE(q.size(), 3u);
    got.push_back(v);
  }
  producer.join();
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[i], i);
}

TEST(BoundedQueue, DropOldestKeepsTheNewestAndCountsTheRest) {
  Queue q(2, Queue::Full::kDropOldest);
  int dropped = 0;
  for (int i = 0; i < 10; ++i) dropped += q.Push(i);
  EXPECT_EQ(dropped, 8);
  EXPECT_EQ(q.size(), 2u);
  int v = 0;
  ASSERT_EQ(q.Pop(&v, milliseconds(0)), Queue::PopResult::kItem);
  EXPECT_EQ(v, 8);
  ASSERT_EQ(q.Pop(&v, milliseconds(0)), Queue::PopResult::kItem);
  EXPECT_EQ(v, 9);
  EXPECT_EQ(q.Pop(&v, milliseconds(10)), Queue::PopResult::kTimeout);
}

TEST(BoundedQueue, CloseDrainsThenEnds) {
  Queue q(4, Queue::Full::kBlock);
  q.Push(1);
  q.Push(2);
  q.Close();
  EXPECT_EQ(q.Push(3), -1);
  int v = 0;
  EXPECT_EQ(q.Pop(&v, milliseconds(0)), Queue::PopResult::kItem);
  EXPECT_EQ(q.Pop(&v, milliseconds(0)), Queue::PopResult::kItem);
  EXPECT_EQ(v, 2);
  EXPECT_EQ(q.Pop(&v, milliseconds(0)), Queue::PopResult::kClosed);
}

TEST(BoundedQueue, CancelReleasesABlockedProducer) {
  Queue q(1, Queue::Full::kBlock);
  q.Push(1);
  int result = 0;
  std::thread producer([&] { result = q.Push(2); });  // blocks: full
  std::this_thread::sleep_for(milliseconds(20));
  q.Cancel();
  producer.join();
  EXPECT_EQ(result, -1);
  int v = 0;
  EXPECT_EQ(q.Pop(&v, milliseconds(0)), Queue::PopResult::kClosed);
}

}  // namespace
}  // namespace personcls::video
