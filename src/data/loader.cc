// The training loader (see loader.h): deterministic order and augmentation, worker threads.
#include "data/loader.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <numeric>

namespace personcls {
namespace {

// splitmix64's finalizer: a bijective 64-bit mix, so nearby (seed, epoch, position) triples
// give unrelated RNG seeds.
uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Distinct streams for the order, the samples and the batch mixing of one epoch.
enum Stream : uint64_t { kOrderStream = 1, kSampleStream = 2, kMixStream = 3 };

uint64_t StreamSeed(uint64_t seed, Stream stream, int epoch, uint64_t position) {
  return Mix64(Mix64(Mix64(seed) ^ stream) ^ static_cast<uint64_t>(epoch)) ^ Mix64(position);
}

void Shuffle(std::vector<uint32_t>* v, std::mt19937_64& rng) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng() % i]);
}

}  // namespace

uint64_t Loader::SampleSeed(uint64_t seed, int epoch, uint64_t position) { return StreamSeed(seed, kSampleStream, epoch, position); }

std::vector<uint32_t> Loader::EpochOrder(const Dataset& data, uint64_t seed, int epoch, bool shuffle, bool balanced) {
  const size_t n = data.count();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(StreamSeed(seed, kOrderStream, epoch, 0));
  if (!balanced) {
    if (shuffle) Shuffle(&order, rng);
    return order;
  }
  // Per-class cycles, each reshuffled when used up; classes without images are skipped.
  int32_t classes = 0;
  for (int32_t l : data.labels) classes = std::max(classes, l + 1);
  std::vector<std::vector<uint32_t>> by_class(static_cast<size_t>(classes));
  for (uint32_t i = 0; i < n; ++i) by_class[data.labels[i]].push_back(i);
  std::vector<int32_t> present;
  for (int32_t c = 0; c < classes; ++c)
    if (!by_class[c].empty()) present.push_back(c);
  std::vector<size_t> next(by_class.size(), 0);
  for (int32_t c : present) Shuffle(&by_class[c], rng);
  for (size_t p = 0; p < n; ++p) {
    const int32_t c = present[UniformInt(rng, 0, static_cast<int>(present.size()) - 1)];
    if (next[c] == by_class[c].size()) {
      Shuffle(&by_class[c], rng);
      next[c] = 0;
    }
    order[p] = by_class[c][next[c]++];
  }
  return order;
}

Loader::Loader(const Dataset& data, LoaderOptions options) : data_(data), options_(std::move(options)) {
  assert(options_.batch >= 1 && options_.out_size >= 1 && options_.prefetch >= 1 && options_.threads >= 0 && data_.count() > 0);
  for (int t = 0; t < options_.threads; ++t) workers_.emplace_back([this] { Work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

int Loader::batches_per_epoch() const {
  const size_t n = data_.count(), b = static_cast<size_t>(options_.batch);
  return static_cast<int>(n / b + (n % b > 1 ? 1 : 0));
}

void Loader::Start(int epoch) {
  auto order = std::make_shared<const std::vector<uint32_t>>(EpochOrder(data_, options_.seed, epoch, options_.shuffle, options_.balanced));
  {
    std::lock_guard<std::mutex> lock(mu_);
    epoch_ = epoch;
    ++generation_;
    order_ = std::move(order);
    next_build_ = next_consume_ = 0;
    ready_.clear();
  }
  work_cv_.notify_all();
}

bool Loader::Next(Batch* out) {
  std::unique_lock<std::mutex> lock(mu_);
  assert(order_ && "Loader::Next before Start");
  if (next_consume_ >= batches_per_epoch()) return false;
  const int index = next_consume_++;
  if (workers_.empty()) {
    const auto order = order_;
    const int epoch = epoch_;
    lock.unlock();
    *out = Build(epoch, index, *order);
    return true;
  }
  work_cv_.notify_all();  // the prefetch window moved
  ready_cv_.wait(lock, [&] { return ready_.count(index) > 0; });
  auto it = ready_.find(index);
  *out = std::move(it->second);
  ready_.erase(it);
  return true;
}

void Loader::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] {
      return stop_ || (order_ && next_build_ < batches_per_epoch() && next_build_ < next_consume_ + options_.prefetch);
    });
    if (stop_) return;
    const int index = next_build_++;
    const uint64_t generation = generation_;
    const int epoch = epoch_;
    const auto order = order_;
    lock.unlock();
    Batch batch = Build(epoch, index, *order);
    lock.lock();
    if (generation == generation_) {
      ready_.emplace(index, std::move(batch));
      ready_cv_.notify_all();
    }
  }
}

Batch Loader::Build(int epoch, int index, const std::vector<uint32_t>& order) const {
  const size_t start = static_cast<size_t>(index) * options_.batch;
  const int m = static_cast<int>(std::min<size_t>(options_.batch, order.size() - start));
  const int S = options_.out_size, C = data_.channels;
  const size_t out_bytes = static_cast<size_t>(S) * S * C;
  Batch b;
  b.epoch = epoch;
  b.index = index;
  b.count = m;
  b.size = S;
  b.channels = C;
  b.pixels.resize(out_bytes * m);
  std::vector<Image> images(static_cast<size_t>(m));
  for (int i = 0; i < m; ++i) {
    const uint32_t idx = order[start + i];
    b.indices.push_back(idx);
    b.labels.push_back(data_.labels[idx]);
    Image src;
    src.width = src.height = data_.size;
    src.channels = C;
    src.pixels.assign(data_.image(idx), data_.image(idx) + data_.image_bytes());
    std::mt19937_64 rng(SampleSeed(options_.seed, epoch, start + i));
    images[i] = Augment(src, options_.augment, S, S, rng);
  }
  if (options_.mix != BatchMix::kNone) {
    std::mt19937_64 rng(StreamSeed(options_.seed, kMixStream, epoch, static_cast<uint64_t>(index)));
    b.mix = options_.mix == BatchMix::kMixup ? Mixup(&images, options_.mix_alpha, rng) : Cutmix(&images, options_.mix_alpha, rng);
  }
  for (int i = 0; i < m; ++i) std::memcpy(b.pixels.data() + out_bytes * i, images[i].pixels.data(), out_bytes);
  return b;
}

}  // namespace personcls
