// Calibration sources: images from a directory (decoded and preprocessed like `classify`)
// or pixels already in memory.
#include <algorithm>
#include <filesystem>

#include "core/tensor.h"
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
                                                                      std::optional<InputNormalization> normalization) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Error(dir + ": not a directory");
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && HasImageExtension(it->path().string())) files.push_back(it->path().string());
  }
  if (ec) return Status::Error(dir + ": cannot read directory: " + ec.message());
  if (files.empty()) return Status::Error(dir + ": no images for calibration");
  std::sort(files.begin(), files.end());
  if (files.size() > max_images) files.resize(max_images);
  if (files.empty()) return Status::Error(dir + ": calibration needs at least 1 image");
  return std::unique_ptr<CalibrationSource>(std::make_unique<DirectorySource>(std::move(files), normalization));
}

std::unique_ptr<CalibrationSource> CalibrationFromPixels(const uint8_t* pixels, size_t count, int size, int channels) {
  return std::make_unique<PixelSource>(pixels, count, size, channels);
}

}  // namespace personcls
