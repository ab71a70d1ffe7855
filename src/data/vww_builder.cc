// VWW dataset build: label, split, decode in resumable chunks, assemble (vww_builder.h).
#include "data/vww_builder.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "data/coco_instances.h"
#include "data/image_cache.h"
#include "personcls/image.h"

namespace personcls {
namespace {

namespace fs = std::filesystem;

constexpr size_t kFullCocoImages = 123287;  // train2014 + val2014
constexpr size_t kFullMinival = 8059;       // tensorflow/models mscoco_minival_ids.txt
constexpr size_t kExamplesPerKind = 5;
constexpr int64_t kMaxJpegBytes = int64_t{256} << 20;  // COCO's largest is under 1 MB

// Per-image outcome, stored as one byte in the chunk files.
enum ImageOutcome : uint8_t { kOk = 0, kMissing = 1, kCorrupt = 2, kMismatch = 3 };
constexpr const char* kOutcomeNames[] = {"ok", "missing", "corrupt", "size mismatch"};

// ---- chunk files -------------------------------------------------------------------------
// Layout: char magic[8] "PCLSCHK1"; u64 fingerprint; u32 count; u32 size; u32 channels (3);
// u32 zero; then count outcome bytes; count * size * size * 3 pixels (zeros for failures);
// then one "index<TAB>reason" line per failure.
constexpr char kChunkMagic[8] = {'P', 'C', 'L', 'S', 'C', 'H', 'K', '1'};
constexpr size_t kChunkHeader = 32;

struct Chunk {
  std::vector<uint8_t> outcome;
  std::vector<uint8_t> pixels;
  std::vector<std::string> reasons;  // per image; empty when ok
};

uint64_t Fnv1a(uint64_t hash, const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}

// Identifies what a chunk holds: a chunk from a build with another size or another image
// list (a different COCO, minival file or seed) is never reused.
uint64_t Fingerprint(const VwwImage* images, size_t count, int size) {
  uint64_t h = 0xcbf29ce484222325ull;
  h = Fnv1a(h, &size, sizeof(size));
  for (size_t i = 0; i < count; ++i) {
    const VwwImage& im = images[i];
    h = Fnv1a(h, &im.id, sizeof(im.id));
    h = Fnv1a(h, im.file.data(), im.file.size() + 1);  // with the NUL: unambiguous
    h = Fnv1a(h, &im.width, sizeof(im.width));
    h = Fnv1a(h, &im.height, sizeof(im.height));
  }
  return h;
}

void PutLe(uint8_t* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t GetLe(const uint8_t* in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(in[i]) << (8 * i);
  return v;
}

Status WriteChunk(const std::string& path, uint64_t fingerprint, int size, const Chunk& chunk) {
  uint8_t header[kChunkHeader] = {};
  std::memcpy(header, kChunkMagic, 8);
  PutLe(header + 8, fingerprint, 8);
  PutLe(header + 16, chunk.outcome.size(), 4);
  PutLe(header + 20, static_cast<uint64_t>(size), 4);
  PutLe(header + 24, 3, 4);
  std::string reasons;
  for (size_t i = 0; i < chunk.outcome.size(); ++i) {
    if (chunk.outcome[i] != kOk) reasons += std::to_string(i) + "\t" + chunk.reasons[i] + "\n";
  }
  AtomicFile file;
  PCLS_RETURN_IF_ERROR(file.Open(path));
  PCLS_RETURN_IF_ERROR(file.Write(header, sizeof(header)));
  PCLS_RETURN_IF_ERROR(file.Write(chunk.outcome.data(), chunk.outcome.size()));
  PCLS_RETURN_IF_ERROR(file.Write(chunk.pixels.data(), chunk.pixels.size()));
  PCLS_RETURN_IF_ERROR(file.Write(reasons));
  return file.Commit();
}

// Reads a finished chunk; false when it is absent, damaged or from another build.
bool ReadChunk(const std::string& path, uint64_t fingerprint, size_t count, int size, bool with_pixels, Chunk* chunk) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const uint64_t file_bytes = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  uint8_t header[kChunkHeader];
  if (!in.read(reinterpret_cast<char*>(header), sizeof(header))) return false;
  if (std::memcmp(header, kChunkMagic, 8) != 0 || GetLe(header + 8, 8) != fingerprint || GetLe(header + 16, 4) != count ||
      GetLe(header + 20, 4) != static_cast<uint64_t>(size) || GetLe(header + 24, 4) != 3) {
    return false;
  }
  chunk->outcome.resize(count);
  if (!in.read(reinterpret_cast<char*>(chunk->outcome.data()), static_cast<std::streamsize>(count))) return false;
  const size_t pixel_bytes = count * size * size * 3;
  if (file_bytes < kChunkHeader + count + pixel_bytes) return false;  // cut short
  if (with_pixels) {
    chunk->pixels.resize(pixel_bytes);
    if (!in.read(reinterpret_cast<char*>(chunk->pixels.data()), static_cast<std::streamsize>(pixel_bytes))) return false;
  } else {
    in.seekg(static_cast<std::streamoff>(kChunkHeader + count + pixel_bytes));
    if (!in) return false;
  }
  chunk->reasons.assign(count, "");
  size_t failures = 0;
  for (uint8_t o : chunk->outcome) {
    if (o > kMismatch) return false;
    failures += o != kOk;
  }
  std::string line;
  for (size_t k = 0; k < failures; ++k) {
    if (!std::getline(in, line)) return false;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) return false;
    size_t index = 0;
    try {
      index = std::stoul(line.substr(0, tab));
    } catch (const std::exception&) {
      return false;
    }
    if (index >= count || chunk->outcome[index] == kOk) return false;
    chunk->reasons[index] = line.substr(tab + 1);
  }
  return in.peek() == std::char_traits<char>::eof();  // nothing after the last reason
}

// ---- decoding ----------------------------------------------------------------------------

ImageOutcome ReadFile(const std::string& path, std::vector<uint8_t>* bytes, std::string* reason) {
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    *reason = std::string("cannot open: ") + std::strerror(errno);
    return kMissing;
  }
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0 || !S_ISREG(info.st_mode)) {
    *reason = "not a regular file";
    return kMissing;
  }
  if (info.st_size > kMaxJpegBytes) {
    *reason = "file too large (" + std::to_string(info.st_size) + " bytes)";
    return kCorrupt;
  }
  bytes->resize(static_cast<size_t>(info.st_size));
  if (!bytes->empty() && std::fread(bytes->data(), 1, bytes->size(), file.get()) != bytes->size()) {
    *reason = "read failed";
    return kCorrupt;
  }
  return kOk;
}

// Decodes one image into `out` (size * size * 3 bytes).
ImageOutcome DecodeOne(const std::string& coco_root, const VwwImage& im, int size, uint8_t* out, std::string* reason) {
  std::vector<uint8_t> bytes;
  ImageOutcome outcome = ReadFile(coco_root + "/" + im.file, &bytes, reason);
  if (outcome != kOk) return outcome;
  ImageSize source;
  Expected<Image> image = Status::Error("unset");
  if (SniffImageFormat(bytes.data(), bytes.size()) == ImageFormat::kJpeg) {
    image = DecodeJpegAtLeast(bytes.data(), bytes.size(), im.file, size, size, &source);
  } else {
    image = DecodeImage(bytes.data(), bytes.size(), im.file);  // not JPEG despite the name
    if (image.ok()) source = {image->width, image->height};
  }
  if (!image.ok()) {
    // Decoder messages start with the name we gave ("train2014/x.jpg: ..."); keep the reason.
    const std::string message = image.status().message();  // status() returns a copy
    *reason = message.rfind(im.file + ": ", 0) == 0 ? message.substr(im.file.size() + 2) : message;
    return kCorrupt;
  }
  if (source.width != im.width || source.height != im.height) {
    *reason = std::to_string(source.width) + "x" + std::to_string(source.height) + " in the file, " + std::to_string(im.width) +
              "x" + std::to_string(im.height) + " in the JSON";
    return kMismatch;
  }
  const Image resized = ResizeBilinear(ToRgb(*image), size, size);
  std::memcpy(out, resized.pixels.data(), resized.pixels.size());
  return kOk;
}

Chunk DecodeChunk(const std::string& coco_root, const VwwImage* images, size_t count, int size, int threads) {
  Chunk chunk;
  const size_t bytes = static_cast<size_t>(size) * size * 3;
  chunk.outcome.assign(count, kOk);
  chunk.pixels.assign(count * bytes, 0);
  chunk.reasons.assign(count, "");
  // Dynamic schedule: JPEG sizes vary, so a static split leaves one thread idle at the end.
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
    chunk.outcome[i] = DecodeOne(coco_root, images[i], size, chunk.pixels.data() + i * bytes, &chunk.reasons[i]);
  }
  return chunk;
}

// ---- splits ------------------------------------------------------------------------------

Expected<std::unordered_set<int64_t>> ReadMinivalIds(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  std::unordered_set<int64_t> ids;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const size_t last = line.find_last_not_of(" \t\r");
    const std::string text = line.substr(first, last - first + 1);
    size_t used = 0;
    int64_t id = 0;
    try {
      id = std::stoll(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size()) return Status::Error(path + ":" + std::to_string(line_no) + ": '" + text + "' is not an image id");
    ids.insert(id);
  }
  if (ids.empty()) return Status::Error(path + ": no image ids");
  return ids;
}

// SplitMix64: a tiny generator whose sequence is the same on every platform (std::
// distributions are not), so a seed names the same split everywhere.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Marks the images (sorted by id) that go to minival.
Expected<std::vector<bool>> ChooseMinival(const std::vector<VwwImage>& images, const VwwBuildOptions& options, VwwReport* report) {
  std::vector<bool> minival(images.size(), false);
  if (!options.minival_ids.empty()) {
    PCLS_ASSIGN_OR_RETURN(auto ids, ReadMinivalIds(options.minival_ids));
    size_t found = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      if (ids.count(images[i].id)) {
        minival[i] = true;
        ++found;
      }
    }
    report->minival_ids_not_found = ids.size() - found;
    report->split_source = "minival: the " + std::to_string(ids.size()) + " ids of " + options.minival_ids + " (" +
                           std::to_string(found) + " found in COCO)";
    return minival;
  }
  size_t n = images.size() >= kFullCocoImages
                 ? kFullMinival
                 : static_cast<size_t>(std::llround(static_cast<double>(kFullMinival) * images.size() / kFullCocoImages));
  if (n == 0 && images.size() >= 2) n = 1;
  // Partial Fisher-Yates: the first n positions of a seeded shuffle of the indices.
  std::vector<size_t> order(images.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  uint64_t state = options.seed;
  for (size_t i = 0; i < n; ++i) {
    const size_t j = i + static_cast<size_t>(SplitMix64(&state) % (order.size() - i));
    std::swap(order[i], order[j]);
    minival[order[i]] = true;
  }
  report->split_source = "minival: seeded random split (seed " + std::to_string(options.seed) + "): " + std::to_string(n) + " of " +
                         std::to_string(images.size()) + " images (8,059 of 123,287 for the full COCO 2014; --minival-ids FILE " +
                         "for the standard split)";
  return minival;
}

// "skipped N KIND: e1; e2; e3\n  ... and M more\n" (nothing when N is 0).
std::string FormatProblems(const VwwProblems& p, const std::string& what) {
  if (p.count == 0) return "";
  std::string text = "skipped " + std::to_string(p.count) + " " + what + p.kind + ":";
  for (const std::string& e : p.examples) text += " " + e + ";";
  text.back() = '\n';
  if (p.count > p.examples.size()) text += "  ... and " + std::to_string(p.count - p.examples.size()) + " more\n";
  return text;
}

// The --strict error for skipped items: "ROOT: N unusable WHAT (--strict): 1 KIND, first E; ...".
Status StrictError(const std::string& root, size_t total, const std::string& what, const std::vector<VwwProblems>& problems) {
  std::string message = root + ": " + std::to_string(total) + " unusable " + what + " (--strict):";
  for (const VwwProblems& p : problems) {
    if (p.count > 0) message += " " + std::to_string(p.count) + " " + p.kind + ", first " + p.examples[0] + ";";
  }
  message.pop_back();
  return Status::Error(message);
}

void AddAnnotationProblems(VwwProblems& problems, size_t count, const std::vector<std::string>& examples, const std::string& file) {
  for (const std::string& e : examples)
    if (problems.examples.size() < kExamplesPerKind) problems.examples.push_back(file + ": " + e);
  problems.count += count;
}

Expected<std::vector<VwwImage>> LoadLabelled(const VwwBuildOptions& options, VwwReport* report) {
  std::vector<VwwImage> all;
  report->annotation_problems = {VwwProblems{"unknown image id", 0, {}}, VwwProblems{"negative area", 0, {}}};
  for (const char* part : {"train2014", "val2014"}) {
    const std::string name = std::string("annotations/instances_") + part + ".json";
    const std::string path = options.coco_root + "/" + name;
    if (!fs::is_regular_file(path)) return Status::Error(path + ": cannot open: No such file");
    PCLS_ASSIGN_OR_RETURN(CocoInstances coco, ReadCocoInstances(path));
    VwwLabelStats stats;
    PCLS_ASSIGN_OR_RETURN(std::vector<VwwImage> images, LabelVww(coco, part, options.threshold, path, &stats));
    report->orphan_annotations += stats.orphan_annotations;
    AddAnnotationProblems(report->annotation_problems[0], stats.orphan_annotations, stats.orphan_examples, name);
    AddAnnotationProblems(report->annotation_problems[1], stats.negative_area_annotations, stats.negative_area_examples, name);
    if (options.log) {
      options.log(path + ": " + std::to_string(images.size()) + " images, " + std::to_string(stats.person_annotations) +
                  " person annotations (" + std::to_string(stats.crowd_person_annotations) + " crowd)");
    }
    for (auto& im : images) all.push_back(std::move(im));
  }
  std::sort(all.begin(), all.end(), [](const VwwImage& a, const VwwImage& b) { return a.id < b.id; });
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i].id == all[i - 1].id) {
      return Status::Error(options.coco_root + ": image id " + std::to_string(all[i].id) + " in both train2014 and val2014");
    }
  }
  if (all.empty()) return Status::Error(options.coco_root + ": the annotation files list no images");
  return all;
}

struct Split {
  std::string name;
  std::vector<VwwImage> images;
  std::vector<uint8_t> outcome;      // per image, filled chunk by chunk
  std::vector<std::string> reasons;  // per image; empty when ok
};

std::string ChunkPath(const std::string& out_dir, const Split& split, size_t k) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s-%05zu.chunk", split.name.c_str(), k);
  return out_dir + "/chunks/" + name;
}

// Writes labels.csv (file paths relative to the folder) for one split.
Status WriteLabelsCsv(const VwwBuildOptions& options, const Split& split) {
  const fs::path dir = fs::path(options.out_dir) / split.name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Error(dir.string() + ": cannot create: " + ec.message());
  const fs::path from = fs::weakly_canonical(dir, ec);
  const fs::path root = fs::weakly_canonical(options.coco_root, ec);
  std::string text = "file,label\n";
  for (size_t i = 0; i < split.images.size(); ++i) {
    if (split.outcome[i] != kOk) continue;
    text += (root / split.images[i].file).lexically_relative(from).string() + "," + std::to_string(split.images[i].label) + "\n";
  }
  return WriteFileAtomic((dir / "labels.csv").string(), text);
}

Status WriteSummary(const VwwBuildOptions& options, const VwwReport& report) {
  nlohmann::json j;
  j["coco_root"] = options.coco_root;
  j["size"] = options.size;
  j["threshold"] = options.threshold;
  j["seed"] = options.seed;
  j["minival_ids"] = options.minival_ids;
  j["split_source"] = report.split_source;
  for (const VwwSplitCounts& s : report.splits) {
    j["splits"][s.name] = {{"images", s.images}, {"not_person", s.per_class[0]}, {"person", s.per_class[1]}};
  }
  for (const VwwProblems& p : report.problems) j["skipped"][p.kind] = {{"count", p.count}, {"examples", p.examples}};
  for (const VwwProblems& p : report.annotation_problems)
    j["skipped_person_annotations"][p.kind] = {{"count", p.count}, {"examples", p.examples}};
  j["minival_ids_not_found"] = report.minival_ids_not_found;
  j["orphan_annotations"] = report.orphan_annotations;
  return WriteFileAtomic(options.out_dir + "/summary.json", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

// Removes temporaries ("NAME.tmp<pid>", see AtomicFile) that a killed build left in the
// folders it writes; only names this builder uses are touched.
void RemoveStaleTemporaries(const std::string& out_dir) {
  std::error_code ec;
  for (const char* sub : {"", "/chunks", "/train", "/minival"}) {
    for (const auto& entry : fs::directory_iterator(out_dir + sub, ec)) {
      const std::string name = entry.path().filename().string();
      const size_t tmp = name.rfind(".tmp");
      if (tmp == std::string::npos || tmp + 4 == name.size() ||
          name.find_first_not_of("0123456789", tmp + 4) != std::string::npos) {
        continue;
      }
      const std::string base = name.substr(0, tmp);
      const bool ours = base.ends_with(".pcache") || base.ends_with(".index.csv") || base.ends_with(".chunk") ||
                        base == "labels.csv" || base == "summary.json";
      if (ours) fs::remove(entry.path(), ec);
    }
  }
}

}  // namespace

size_t VwwReport::skipped() const {
  size_t n = 0;
  for (const VwwProblems& p : problems) n += p.count;
  return n;
}

size_t VwwReport::skipped_annotations() const {
  size_t n = 0;
  for (const VwwProblems& p : annotation_problems) n += p.count;
  return n;
}

Expected<VwwReport> BuildVww(const VwwBuildOptions& options) {
  if (options.size < 1 || options.size > 4096) return Status::Error("--size must be in 1..4096");
  if (options.chunk_size < 1) return Status::Error("chunk size must be >= 1");
  if (!(options.threshold >= 0 && options.threshold < 1)) return Status::Error("--threshold must be in [0, 1)");
  VwwReport report;
  PCLS_ASSIGN_OR_RETURN(std::vector<VwwImage> all, LoadLabelled(options, &report));
  if (options.strict && report.skipped_annotations() > 0)
    return StrictError(options.coco_root, report.skipped_annotations(), "person annotations", report.annotation_problems);
  PCLS_ASSIGN_OR_RETURN(std::vector<bool> in_minival, ChooseMinival(all, options, &report));

  std::vector<Split> splits(2);
  splits[0].name = "train";
  splits[1].name = "minival";
  for (size_t i = 0; i < all.size(); ++i) splits[in_minival[i] ? 1 : 0].images.push_back(std::move(all[i]));

  std::error_code ec;
  fs::create_directories(options.out_dir + "/chunks", ec);
  if (ec) return Status::Error(options.out_dir + "/chunks: cannot create: " + ec.message());
  RemoveStaleTemporaries(options.out_dir);

  // Pass 1: make sure every chunk exists (decode the missing ones).
  const size_t cs = static_cast<size_t>(options.chunk_size);
  int decoded_now = 0;
  for (Split& split : splits) {
    const size_t n = split.images.size(), chunks = (n + cs - 1) / cs;
    split.outcome.assign(n, kOk);
    split.reasons.assign(n, "");
    for (size_t k = 0; k < chunks; ++k) {
      const size_t begin = k * cs, count = std::min(cs, n - begin);
      const uint64_t fingerprint = Fingerprint(&split.images[begin], count, options.size);
      const std::string path = ChunkPath(options.out_dir, split, k);
      Chunk chunk;
      const bool reused = ReadChunk(path, fingerprint, count, options.size, /*with_pixels=*/false, &chunk);
      if (reused) {
        ++report.chunks_reused;
      } else {
        if (options.stop_after_chunks > 0 && decoded_now == options.stop_after_chunks) {
          return Status::Error(options.out_dir + ": interrupted after " + std::to_string(decoded_now) + " chunks (run again to continue)");
        }
        chunk = DecodeChunk(options.coco_root, &split.images[begin], count, options.size, std::max(1, options.threads));
        PCLS_RETURN_IF_ERROR(WriteChunk(path, fingerprint, options.size, chunk));
        ++report.chunks_decoded;
        ++decoded_now;
      }
      size_t failed = 0;
      for (size_t i = 0; i < count; ++i) {
        split.outcome[begin + i] = chunk.outcome[i];
        split.reasons[begin + i] = std::move(chunk.reasons[i]);
        failed += chunk.outcome[i] != kOk;
      }
      if (options.log) {
        options.log(split.name + ": chunk " + std::to_string(k + 1) + "/" + std::to_string(chunks) + (reused ? " reused" : " decoded") +
                    " (" + std::to_string(count) + " images, " + std::to_string(failed) + " skipped)");
      }
    }
  }

  // Problems by kind, then counts of what is written.
  for (uint8_t kind : {kMissing, kCorrupt, kMismatch}) {
    VwwProblems problems;
    problems.kind = kOutcomeNames[kind];
    for (const Split& split : splits) {
      for (size_t i = 0; i < split.images.size(); ++i) {
        if (split.outcome[i] != kind) continue;
        if (problems.count++ < kExamplesPerKind) problems.examples.push_back(split.images[i].file + ": " + split.reasons[i]);
      }
    }
    report.problems.push_back(std::move(problems));
  }
  for (const Split& split : splits) {
    VwwSplitCounts counts;
    counts.name = split.name;
    for (size_t i = 0; i < split.images.size(); ++i) {
      if (split.outcome[i] != kOk) continue;
      ++counts.images;
      ++counts.per_class[split.images[i].label];
    }
    report.splits.push_back(counts);
  }
  if (options.strict && report.skipped() > 0) return StrictError(options.coco_root, report.skipped(), "images", report.problems);

  // Pass 2: assemble each split's cache from its chunks, then the listings.
  for (const Split& split : splits) {
    ImageCacheWriter writer;
    PCLS_RETURN_IF_ERROR(writer.Open(options.out_dir + "/" + split.name, options.size, options.size, 3));
    const size_t n = split.images.size(), chunks = (n + cs - 1) / cs, bytes = writer.record_bytes();
    for (size_t k = 0; k < chunks; ++k) {
      const size_t begin = k * cs, count = std::min(cs, n - begin);
      Chunk chunk;
      const std::string path = ChunkPath(options.out_dir, split, k);
      if (!ReadChunk(path, Fingerprint(&split.images[begin], count, options.size), count, options.size, /*with_pixels=*/true, &chunk)) {
        return Status::Error(path + ": chunk changed or vanished during the build");
      }
      for (size_t i = 0; i < count; ++i) {
        if (chunk.outcome[i] != kOk) continue;
        const VwwImage& im = split.images[begin + i];
        PCLS_RETURN_IF_ERROR(writer.Append({im.id, im.file, im.label, im.width, im.height}, chunk.pixels.data() + i * bytes));
      }
    }
    PCLS_RETURN_IF_ERROR(writer.Commit());
    PCLS_RETURN_IF_ERROR(WriteLabelsCsv(options, split));
  }
  PCLS_RETURN_IF_ERROR(WriteSummary(options, report));
  fs::remove_all(options.out_dir + "/chunks", ec);  // best effort: the outputs are complete
  return report;
}

std::string FormatVwwReport(const VwwReport& report) {
  std::string text = report.split_source + "\n";
  for (const VwwSplitCounts& s : report.splits) {
    text += s.name + ": " + std::to_string(s.images) + " images (not person " + std::to_string(s.per_class[0]) + ", person " +
            std::to_string(s.per_class[1]) + ")\n";
  }
  if (report.minival_ids_not_found > 0) {
    text += "warning: " + std::to_string(report.minival_ids_not_found) + " minival ids are not in the annotation files\n";
  }
  for (const VwwProblems& p : report.annotation_problems) text += FormatProblems(p, "person annotations with ");
  for (const VwwProblems& p : report.problems) text += FormatProblems(p, "");
  text += "chunks: " + std::to_string(report.chunks_decoded) + " decoded, " + std::to_string(report.chunks_reused) + " reused\n";
  return text;
}

}  // namespace personcls
