// Calibration sources: a class-balanced seeded sample of a directory's images (decoded and
// preprocessed like `classify`), or pixels already in memory.
#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "core/tensor.h"
#include "data/dataset.h"
#include "personcls/image.h"
#include "personcls/preprocess.h"
#include "personcls/quantize.h"

namespace personcls {
namespace {

namespace fs = std::filesystem;

class DirectorySource : public CalibrationSource {
 public:
  DirectorySource(std::vector<std::string> files, std::optional<InputNormalization> norm) : files_(std::move(files)), norm_(norm) {}
  size_t size() const override { return files_.size(); }
  Status Fill(size_t index, const TensorDesc& desc, float* input) const override {
    auto image = LoadImage(files_.at(index));
    if (!image.ok()) return image.status();
    return FillInputTensor(*image, desc, input, norm_).WithContext(files_[index]);
  }

 private:
  std::vector<std::string> files_;
  std::optional<InputNormalization> norm_;
};

class PixelSource : public CalibrationSource {
 public:
  PixelSource(const uint8_t* pixels, size_t count, int size, int channels)
      : pixels_(pixels), count_(count), size_(size), channels_(channels) {}
  size_t size() const override { return count_; }
  Status Fill(size_t index, const TensorDesc& desc, float* input) const override {
    const auto& s = desc.shape;
    if (s.size() != 4 || s[1] != size_ || s[2] != size_ || s[3] != channels_)
      return Status::Error("calibration images are " + std::to_string(size_) + "x" + std::to_string(size_) + "x" +
                           std::to_string(channels_) + " but the model input is " + ShapeToString(s));
    // Through FillInputTensor so the values are exactly what the runtime feeds.
    Image image;
    image.width = image.height = size_;
    image.channels = channels_;
    const size_t n = static_cast<size_t>(size_) * size_ * channels_;
    image.pixels.assign(pixels_ + index * n, pixels_ + (index + 1) * n);
    return FillInputTensor(image, desc, input);
  }

 private:
  const uint8_t* pixels_;
  size_t count_;
  int size_, channels_;
};

}  // namespace

Expected<std::unique_ptr<CalibrationSource>> CalibrationFromDirectory(const std::string& dir, size_t max_images,
                                                                      std::optional<InputNormalization> normalization, uint64_t seed) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Error(dir + ": not a directory");
  if (max_images == 0) return Status::Error(dir + ": calibration needs at least 1 image");
  // Groups to balance: the classes of labels.csv, else the immediate sub-directories (class
  // folders, or sources), with the files directly in DIR as one more group.
  std::map<std::string, std::vector<std::string>> groups;
  if (fs::exists(fs::path(dir) / "labels.csv", ec)) {
    PCLS_ASSIGN_OR_RETURN(const std::vector<LabelledFile> files, ReadLabelsCsv(dir, 1 << 20));
    for (const LabelledFile& f : files) groups[std::to_string(f.label)].push_back(f.path);
  } else {
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec) || !HasImageExtension(it->path().string())) continue;
      const fs::path rel = it->path().lexically_relative(dir);
      groups[std::distance(rel.begin(), rel.end()) > 1 ? rel.begin()->string() : std::string()].push_back(it->path().string());
    }
    if (ec) return Status::Error(dir + ": cannot read directory: " + ec.message());
  }
  if (groups.empty()) return Status::Error(dir + ": no images for calibration");
  // Each group in sorted order, shuffled by (seed, group); then one image of each group in
  // turn until max_images (a group that runs out is skipped).
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::string>*> order;
  for (auto& [name, files] : groups) {
    std::sort(files.begin(), files.end());
    for (size_t i = files.size(); i > 1; --i) std::swap(files[i - 1], files[rng() % i]);
    order.push_back(&files);
  }
  std::vector<std::string> chosen;
  for (size_t round = 0; chosen.size() < max_images; ++round) {
    bool any = false;
    for (auto* files : order)
      if (round < files->size() && chosen.size() < max_images) {
        chosen.push_back((*files)[round]);
        any = true;
      }
    if (!any) break;
  }
  return std::unique_ptr<CalibrationSource>(std::make_unique<DirectorySource>(std::move(chosen), normalization));
}

std::unique_ptr<CalibrationSource> CalibrationFromPixels(const uint8_t* pixels, size_t count, int size, int channels) {
  return std::make_unique<PixelSource>(pixels, count, size, channels);
}

}  // namespace personcls
