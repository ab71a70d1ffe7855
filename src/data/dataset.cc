#include "data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "data/image_cache.h"
#include "personcls/image.h"

namespace personcls {
namespace fs = std::filesystem;

Expected<std::vector<LabelledFile>> ReadLabelsCsv(const std::string& dir, int num_classes) {
  const std::string csv = dir + "/labels.csv";
  std::ifstream in(csv);
  if (!in) return Status::Error(csv + ": cannot open");
  std::vector<LabelledFile> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t comma = line.rfind(',');
    if (comma == std::string::npos) return Status::Error(csv + ":" + std::to_string(line_no) + ": expected 'file,label'");
    const std::string name = line.substr(0, comma), text = line.substr(comma + 1);
    int label = 0;
    try {
      size_t used = 0;
      label = std::stoi(text, &used);
      if (used != text.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      if (line_no == 1) continue;  // header
      return Status::Error(csv + ":" + std::to_string(line_no) + ": label '" + text + "' is not an integer");
    }
    if (label < 0 || label >= num_classes)
      return Status::Error(csv + ":" + std::to_string(line_no) + ": label " + std::to_string(label) + " out of range for " +
                           std::to_string(num_classes) + " classes");
    out.push_back({dir + "/" + name, label});
  }
  if (out.empty()) return Status::Error(csv + ": no labelled files");
  return out;
}


namespace {

std::string CachePrefix(const std::string& path) {
  const std::string ext = ".pcache";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) return path.substr(0, path.size() - ext.size());
  return path;
}

// Converts one image to the dataset's channels and size and stores it as image i.
Status StoreImage(const Image& img, size_t i, const std::string& name, Dataset* ds) {
  Image im = ds->channels == 1 ? ToGray(img) : ToRgb(img);
  im = ResizeBilinear(im, ds->size, ds->size);
  if (im.pixels.size() != ds->image_bytes()) return Status::Error(name + ": cannot resize");
  std::copy(im.pixels.begin(), im.pixels.end(), ds->pixels.begin() + static_cast<std::ptrdiff_t>(i * ds->image_bytes()));
  return Status::Ok();
}

Expected<Dataset> LoadCache(const std::string& path, int input_size, int num_classes, bool gray) {
  const std::string prefix = CachePrefix(path);
  auto cache = ReadImageCache(prefix);
  if (!cache.ok()) return cache.status();
  Dataset ds;
  ds.size = input_size;
  ds.channels = gray ? 1 : 3;
  const size_t n = cache->records.size();
  if (n == 0) return Status::Error(prefix + ".pcache: no images");
  for (size_t i = 0; i < n; ++i) {
    const ImageCacheRecord& r = cache->records[i];
    if (r.label < 0 || r.label >= num_classes)
      return Status::Error(prefix + ".index.csv: record " + std::to_string(i + 1) + ": label " + std::to_string(r.label) + " out of range for " +
                           std::to_string(num_classes) + " classes");
    ds.labels.push_back(r.label);
    ds.files.push_back(r.file);
  }
  if (cache->height == input_size && cache->width == input_size && cache->channels == ds.channels) {
    ds.pixels = std::move(cache->pixels);
    return ds;
  }
  ds.pixels.resize(n * ds.image_bytes());
  for (size_t i = 0; i < n; ++i) {
    Image im;
    im.width = cache->width;
    im.height = cache->height;
    im.channels = cache->channels;
    im.pixels.assign(cache->image(i), cache->image(i) + cache->record_bytes());
    PCLS_RETURN_IF_ERROR(StoreImage(im, i, prefix + ".pcache", &ds));
  }
  return ds;
}

}  // namespace

bool IsImageCachePath(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(CachePrefix(path) + ".pcache", ec);
}

Expected<Dataset> LoadDataset(const std::string& dir, int input_size, int num_classes, bool gray) {
  if (input_size <= 0) return Status::Error("input size must be > 0");
  if (IsImageCachePath(dir)) return LoadCache(dir, input_size, num_classes, gray);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Error(dir + ": not a directory or an image cache (.pcache)");
  Dataset ds;
  ds.size = input_size;
  ds.channels = gray ? 1 : 3;
  std::vector<LabelledFile> entries;
  if (fs::exists(dir + "/labels.csv", ec)) {
    auto csv = ReadLabelsCsv(dir, num_classes);
    if (!csv.ok()) return csv.status();
    entries = std::move(*csv);
  } else {
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_directory()) ds.class_names.push_back(e.path().filename().string());
    if (ec) return Status::Error(dir + ": " + ec.message());
    std::sort(ds.class_names.begin(), ds.class_names.end());
    if (ds.class_names.empty()) return Status::Error(dir + ": no labels.csv and no class folders");
    if (static_cast<int>(ds.class_names.size()) != num_classes)
      return Status::Error(dir + ": " + std::to_string(ds.class_names.size()) + " class folders for a " + std::to_string(num_classes) +
                           "-class model");
    for (size_t c = 0; c < ds.class_names.size(); ++c) {
      std::vector<std::string> files;
      for (const auto& e : fs::recursive_directory_iterator(dir + "/" + ds.class_names[c], ec))
        if (e.is_regular_file() && HasImageExtension(e.path().string())) files.push_back(e.path().string());
      if (ec) return Status::Error(dir + "/" + ds.class_names[c] + ": " + ec.message());
      std::sort(files.begin(), files.end());
      for (auto& f : files) entries.push_back({std::move(f), static_cast<int32_t>(c)});
    }
    if (entries.empty()) return Status::Error(dir + ": no images in the class folders");
  }
  ds.pixels.resize(entries.size() * ds.image_bytes());
  for (size_t i = 0; i < entries.size(); ++i) {
    auto img = LoadImage(entries[i].path);
    if (!img.ok()) return img.status();
    PCLS_RETURN_IF_ERROR(StoreImage(*img, i, entries[i].path, &ds));
    ds.labels.push_back(entries[i].label);
    ds.files.push_back(entries[i].path);
  }
  return ds;
}

}  // namespace personcls
