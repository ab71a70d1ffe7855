#include "distill/image_pool.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include "data/augment.h"
#include "personcls/image.h"

namespace personcls {
namespace fs = std::filesystem;

namespace {

struct PoolEntry {
  std::string path;
  int32_t label = -1;
};

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// source -> entries, from an index CSV (see the header).
Expected<std::map<std::string, std::vector<PoolEntry>>> ReadIndexCsv(const std::string& csv, int num_classes) {
  std::ifstream in(csv);
  if (!in) return Status::Error(csv + ": cannot open");
  const fs::path base = fs::path(csv).parent_path();
  std::string line;
  int line_no = 0;
  int file_col = -1, source_col = -1, label_col = -1;
  std::map<std::string, std::vector<PoolEntry>> groups;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> cells = SplitCsvLine(line);
    const std::string where = csv + ":" + std::to_string(line_no) + ": ";
    if (file_col < 0) {  // the header
      for (int c = 0; c < static_cast<int>(cells.size()); ++c) {
        if (cells[c] == "file") file_col = c;
        if (cells[c] == "source") source_col = c;
        if (cells[c] == "person_label" || cells[c] == "label") label_col = c;
      }
      if (file_col < 0) return Status::Error(where + "expected a header with a 'file' column (file,source,person_label,...)");
      continue;
    }
    const int needed = std::max({file_col, source_col, label_col}) + 1;
    if (static_cast<int>(cells.size()) < needed)
      return Status::Error(where + std::to_string(cells.size()) + " columns, expected at least " + std::to_string(needed));
    PoolEntry e;
    const fs::path file(cells[file_col]);
    if (file.empty()) return Status::Error(where + "empty file name");
    e.path = (file.is_absolute() ? file : base / file).string();
    if (label_col >= 0 && !cells[label_col].empty()) {
      const std::string& text = cells[label_col];
      size_t used = 0;
      int label = -1;
      try {
        label = std::stoi(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != text.size() || label < 0 || label >= num_classes)
        return Status::Error(where + "label '" + text + "' is not a class index below " + std::to_string(num_classes));
      e.label = label;
    }
    groups[source_col >= 0 ? cells[source_col] : ""].push_back(std::move(e));
  }
  if (file_col < 0) return Status::Error(csv + ": empty (expected a header with a 'file' column)");
  return groups;
}

// source (immediate sub-directory, "" for files directly in dir) -> images below dir.
Expected<std::map<std::string, std::vector<PoolEntry>>> ScanDirectory(const std::string& dir) {
  std::error_code ec;
  std::map<std::string, std::vector<PoolEntry>> groups;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || !HasImageExtension(it->path().string())) continue;
    const fs::path rel = fs::relative(it->path(), dir, ec);
    const std::string group = std::distance(rel.begin(), rel.end()) > 1 ? rel.begin()->string() : "";
    groups[group].push_back({it->path().string(), -1});
  }
  if (ec) return Status::Error(dir + ": cannot read directory: " + ec.message());
  return groups;
}

void Shuffle(std::vector<size_t>& v, std::mt19937_64& rng) { ShuffleIndices(v.data(), v.size(), rng); }

}  // namespace

void ShuffleIndices(size_t* v, size_t n, std::mt19937_64& rng) {
  for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

Expected<Dataset> LoadImagePool(const std::string& path, int size, int max_per_source, uint64_t seed, int num_classes) {
  std::error_code ec;
  std::map<std::string, std::vector<PoolEntry>> groups;
  if (fs::is_directory(path, ec)) {
    if (fs::is_regular_file(path + "/index.csv", ec)) {
      PCLS_ASSIGN_OR_RETURN(groups, ReadIndexCsv(path + "/index.csv", num_classes));
    } else {
      PCLS_ASSIGN_OR_RETURN(groups, ScanDirectory(path));
    }
  } else if (fs::is_regular_file(path, ec) && fs::path(path).extension() == ".csv") {
    PCLS_ASSIGN_OR_RETURN(groups, ReadIndexCsv(path, num_classes));
  } else {
    return Status::Error(path + ": not a directory or an index .csv");
  }
  std::mt19937_64 rng(seed);
  Dataset ds;
  ds.size = size;
  ds.channels = 3;
  std::vector<PoolEntry> entries;
  for (auto& [source, list] : groups) {
    std::sort(list.begin(), list.end(), [](const PoolEntry& a, const PoolEntry& b) { return a.path < b.path; });
    if (max_per_source > 0 && static_cast<int>(list.size()) > max_per_source) {
      std::vector<size_t> idx(list.size());
      std::iota(idx.begin(), idx.end(), size_t{0});
      Shuffle(idx, rng);
      idx.resize(max_per_source);
      std::sort(idx.begin(), idx.end());
      std::vector<PoolEntry> kept;
      for (size_t i : idx) kept.push_back(list[i]);
      list = std::move(kept);
    }
    if (list.empty()) continue;
    ds.source_names.push_back(source);
    for (PoolEntry& e : list) {
      entries.push_back(std::move(e));
      ds.sources.push_back(static_cast<int32_t>(ds.source_names.size() - 1));
    }
  }
  if (entries.empty()) return Status::Error(path + ": no images");
  ds.pixels.resize(entries.size() * ds.image_bytes());
  std::vector<Status> errors(entries.size(), Status::Ok());
#pragma omp parallel for schedule(dynamic, 16)
  for (size_t i = 0; i < entries.size(); ++i) {
    auto img = LoadImage(entries[i].path);
    if (!img.ok()) {
      errors[i] = img.status();
      continue;
    }
    const Image im = ResizeBilinear(ToRgb(*img), size, size);
    std::copy(im.pixels.begin(), im.pixels.end(), ds.pixels.begin() + static_cast<std::ptrdiff_t>(i * ds.image_bytes()));
  }
  for (const Status& s : errors)
    if (!s.ok()) return s;
  for (PoolEntry& e : entries) {
    ds.files.push_back(std::move(e.path));
    ds.labels.push_back(e.label);
  }
  return ds;
}

void AppendPool(Dataset& pool, Dataset&& more, const std::string& more_tag) {
  const int32_t offset = static_cast<int32_t>(pool.source_names.size());
  for (std::string& name : more.source_names) {
    if (std::find(pool.source_names.begin(), pool.source_names.end(), name) != pool.source_names.end()) name = more_tag + "/" + name;
    pool.source_names.push_back(std::move(name));
  }
  for (int32_t s : more.sources) pool.sources.push_back(s + offset);
  pool.pixels.insert(pool.pixels.end(), more.pixels.begin(), more.pixels.end());
  pool.labels.insert(pool.labels.end(), more.labels.begin(), more.labels.end());
  for (std::string& f : more.files) pool.files.push_back(std::move(f));
}

std::vector<SourceShare> SourceShares(const Dataset& pool, int source_cap, const std::map<std::string, double>& weights) {
  const bool by_source = source_cap > 0 && !pool.sources.empty();
  std::vector<SourceShare> shares(by_source ? pool.source_names.size() : 1);
  for (size_t i = 0; i < pool.count(); ++i) {
    SourceShare& s = shares[by_source ? static_cast<size_t>(pool.sources[i]) : 0];
    ++s.images;
    s.labelled += pool.labels[i] >= 0;
  }
  double total = 0;
  for (size_t k = 0; k < shares.size(); ++k) {
    SourceShare& s = shares[k];
    if (!by_source) {
      s.weight = static_cast<double>(s.images);
    } else {
      s.name = pool.source_names[k];
      s.weight = static_cast<double>(std::min<size_t>(s.images, static_cast<size_t>(source_cap)));
      if (auto it = weights.find(s.name); it != weights.end()) s.weight *= it->second;
    }
    total += s.weight;
  }
  for (SourceShare& s : shares) s.share = total > 0 ? s.weight / total : 0;
  return shares;
}

PoolSampler::PoolSampler(const Dataset& pool, int source_cap, const std::map<std::string, double>& weights, std::mt19937_64& rng) {
  const bool by_source = source_cap > 0 && !pool.sources.empty();
  const std::vector<SourceShare> shares = SourceShares(pool, source_cap, weights);
  std::vector<std::vector<size_t>> members(shares.size());
  for (size_t i = 0; i < pool.count(); ++i) members[by_source ? static_cast<size_t>(pool.sources[i]) : 0].push_back(i);
  begin_.assign(1, 0);
  double total = 0;
  for (size_t s = 0; s < shares.size(); ++s) {
    // One segment without sources draws no source (weight 1 is enough).
    const double w = by_source ? shares[s].weight : 1.0;
    if (members[s].empty() || !(w > 0)) continue;  // a source weighted 0 is left out
    order_.insert(order_.end(), members[s].begin(), members[s].end());
    begin_.push_back(order_.size());
    cumweight_.push_back(total += w);
  }
  if (order_.empty()) throw std::invalid_argument("the pool is empty or every source has weight 0");
  for (size_t s = 0; s + 1 < begin_.size(); ++s) ShuffleIndices(order_.data() + begin_[s], begin_[s + 1] - begin_[s], rng);
  positions_.assign(begin_.size() - 1, 0);
}

size_t PoolSampler::Next(std::mt19937_64& rng) {
  size_t s = 0;
  if (positions_.size() > 1) {  // a single segment draws nothing here
    const double u = Uniform01(rng) * cumweight_.back();
    s = std::min<size_t>(static_cast<size_t>(std::upper_bound(cumweight_.begin(), cumweight_.end(), u) - cumweight_.begin()),
                         positions_.size() - 1);
  }
  const size_t begin = begin_[s], n = begin_[s + 1] - begin;
  if (positions_[s] == n) {
    ShuffleIndices(order_.data() + begin, n, rng);
    positions_[s] = 0;
  }
  return order_[begin + positions_[s]++];
}

Status PoolSampler::Restore(std::vector<size_t> order, std::vector<size_t> positions) {
  if (order.size() != order_.size())
    return Status::Error("the run had " + std::to_string(order.size()) + " unlabeled images, now " + std::to_string(order_.size()));
  if (positions.size() != positions_.size())
    return Status::Error("the run sampled " + std::to_string(positions.size()) + " pool sources, now " + std::to_string(positions_.size()));
  for (size_t s = 0; s < positions.size(); ++s) {
    if (positions[s] > begin_[s + 1] - begin_[s]) return Status::Error("pool position out of range");
    // Each cycle must be a permutation of its own segment.
    std::vector<size_t> a(order.begin() + begin_[s], order.begin() + begin_[s + 1]), b(order_.begin() + begin_[s], order_.begin() + begin_[s + 1]);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) return Status::Error("the run's pool order does not match this pool");
  }
  order_ = std::move(order);
  positions_ = std::move(positions);
  return Status::Ok();
}

}  // namespace personcls
