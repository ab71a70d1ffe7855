// The training loader: streams augmented batches of an in-memory Dataset, built by worker
// threads ahead of the consumer.
//
// Determinism: what a batch holds depends only on (seed, epoch, batch index), never on the
// thread count or on timing:
//   * the epoch's sample order is EpochOrder(seed, epoch): a Fisher-Yates shuffle (or, with
//     `balanced`, a class-balanced draw) from an RNG seeded by (seed, epoch);
//   * sample p of the epoch (its position, 0-based) is augmented with a std::mt19937_64
//     seeded by SampleSeed(seed, epoch, p), so the augmentation stream is the same whichever
//     thread builds it, and an interrupted run resumes bit for bit from its epoch number;
//   * batch mixing (mixup / cutmix) uses an RNG seeded by (seed, epoch, batch index).
// Threads: `threads` workers each build whole batches (batch b entirely by one worker) while
// at most `prefetch` batches wait unconsumed; threads = 0 builds each batch inside Next().
//
// Lifetime: the Dataset must outlive the Loader. The destructor stops and joins workers.
// One consumer thread calls Start/Next.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"

namespace personcls {

enum class BatchMix { kNone, kMixup, kCutmix };

struct LoaderOptions {
  int batch = 128;
  int out_size = 96;  // batches are out_size x out_size x dataset channels
  uint64_t seed = 0;
  bool shuffle = true;    // false: dataset order (evaluation)
  bool balanced = false;  // each position draws its class uniformly, then the next image of
                          // that class from a per-class shuffled cycle (epoch length unchanged)
  AugmentConfig augment;  // default: none (a stretch-resize when sizes differ)
  BatchMix mix = BatchMix::kNone;
  double mix_alpha = 1.0;  // Beta(alpha, alpha) for the mixing weight
  int threads = 2;
  int prefetch = 4;  // batches built ahead (>= 1)
};

struct Batch {
  int epoch = 0, index = 0;
  int count = 0;  // images in the batch
  int size = 0, channels = 0;
  std::vector<uint8_t> pixels;    // [count, size, size, channels] uint8 NHWC
  std::vector<int32_t> labels;    // [count]
  std::vector<uint32_t> indices;  // [count] dataset index of each image
  // With mixing: image i is lambda * own + (1 - lambda) * partner[i] (see augment.h), so the
  // label target is lambda * onehot(labels[i]) + (1 - lambda) * onehot(labels[partner[i]]).
  MixResult mix;  // lambda 1 and no partners without mixing
};

class Loader {
 public:
  // Asserts batch >= 1, out_size >= 1, prefetch >= 1, threads >= 0, non-empty data.
  Loader(const Dataset& data, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Batches per epoch: count / batch, plus a final partial batch unless it would hold a
  // single image (train-mode BatchNorm needs two).
  int batches_per_epoch() const;
  // Begins epoch `epoch` (0-based); batches not consumed from an earlier epoch are dropped.
  void Start(int epoch);
  // The next batch of the started epoch, in order; false when the epoch is exhausted.
  bool Next(Batch* out);

  const LoaderOptions& options() const { return options_; }

  // The epoch's dataset indices (count of them), a pure function of the arguments.
  static std::vector<uint32_t> EpochOrder(const Dataset& data, uint64_t seed, int epoch, bool shuffle, bool balanced);
  static uint64_t SampleSeed(uint64_t seed, int epoch, uint64_t position);

 private:
  Batch Build(int epoch, int index, const std::vector<uint32_t>& order) const;
  void Work();

  const Dataset& data_;
  const LoaderOptions options_;
  std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
  int epoch_ = -1;
  uint64_t generation_ = 0;  // bumped by Start: batches of older generations are discarded
  std::shared_ptr<const std::vector<uint32_t>> order_;
  int next_build_ = 0, next_consume_ = 0;
  std::map<int, Batch> ready_;
};

}  // namespace personcls
