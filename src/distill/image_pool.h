// The image pool of distillation: photos the teachers label, each tagged with the source it
// came from and, where its source knows it, a class label (the shared pools' person_label).
//
// LoadImagePool(PATH) reads, in this order of precedence:
//   PATH/index.csv or PATH.csv   columns file,source[,person_label,...] with a header row; file
//                                relative to the CSV's directory (or absolute); person_label
//                                empty = unknown (-1), else the class index. ../shared/data/pool
//                                and pool2 have this layout.
//   PATH (directory)             every image below it, recursively; the source of an image is
//                                its immediate sub-directory of PATH ("" for files directly in
//                                PATH); labels unknown.
// Images are decoded once, converted to RGB and stretch-resized (bilinear) to size x size, and
// held in memory (26,000 photos at 128 x 128 take 1.3 GB), so that training never waits for a
// decoder. Images of a source are sorted by path; max_per_source > 0 keeps a seeded random
// subset of that many per source. Errors are one line naming the file (and CSV line).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "personcls/status.h"

namespace personcls {

// The returned Dataset has labels (-1 unknown), files, sources and source_names filled.
Expected<Dataset> LoadImagePool(const std::string& path, int size, int max_per_source, uint64_t seed, int num_classes = 2);

// Appends `more` to `pool` (same image size and channels), keeping source names distinct:
// a name already present in `pool` from an earlier path gets `more_tag` + "/" prepended.
void AppendPool(Dataset& pool, Dataset&& more, const std::string& more_tag);

// A pool source and its share of the draws under PoolSampler's weights.
struct SourceShare {
  std::string name;
  size_t images = 0, labelled = 0;
  double weight = 0;  // min(images, cap) x factor (1 each without a cap)
  double share = 0;   // weight / sum of weights
};
// Per source, in the pool's source order (one entry "" for a pool without sources or cap 0).
std::vector<SourceShare> SourceShares(const Dataset& pool, int source_cap, const std::map<std::string, double>& weights);

// Fisher-Yates from the back: the distiller's shuffle of every index order.
void ShuffleIndices(size_t* v, size_t n, std::mt19937_64& rng);

// Draws pool images for distillation. With source_cap 0, every image is equally likely: one
// shuffled cycle over the whole pool, reshuffled at each wrap. With source_cap N > 0, each draw
// first picks a source s with probability proportional to
//   w_s = min(images of s, N) x weights[name of s]   (a missing weight is 1; 0 leaves s out),
// then takes the next image of s's own shuffled cycle. So a source larger than N is seen in
// full over time, yet is drawn no more often than one of N images. Randomness comes from the
// caller's generator (the distiller's, so that a run is reproducible and resumable).
class PoolSampler {
 public:
  PoolSampler() = default;
  // Throws std::invalid_argument when every image is left out.
  PoolSampler(const Dataset& pool, int source_cap, const std::map<std::string, double>& weights, std::mt19937_64& rng);

  size_t Next(std::mt19937_64& rng);  // an index into the pool

  // Resume state: the cycles side by side (segment k at [begin[k], begin[k + 1])) and the next
  // position in each. Restore checks that they fit this sampler's segments.
  size_t segments() const { return positions_.size(); }
  const std::vector<size_t>& order() const { return order_; }
  const std::vector<size_t>& positions() const { return positions_; }
  Status Restore(std::vector<size_t> order, std::vector<size_t> positions);

 private:
  std::vector<size_t> order_, begin_, positions_;  // begin_ [segments + 1]
  std::vector<double> cumweight_;                   // [segments]
};

}  // namespace personcls
