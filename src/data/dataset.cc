#include "data/dataset.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "data/image_cache.h"
#include "personcls/image.h"

namespace personcls {
namespace fs = std::filesystem;

namespace {

// Lower case, letters and digits only: "Not a person" and "not_a_person" both give "notaperson".
std::string NameKey(const std::string& name) {
  std::string key;
  for (unsigned char c : name)
    if (std::isalnum(c)) key += static_cast<char>(std::tolower(c));
  return key;
}

bool IsHeaderWord(const std::string& text, std::initializer_list<const char*> words) {
  const std::string key = NameKey(text);
  for (const char* w : words)
    if (key == w) return true;
  return false;
}

// Indices of `names` (distinct): their positions in `class_names` when every one matches,
// else their sorted order. `where` names the source in errors.
Expected<std::vector<int32_t>> IndexNames(const std::vector<std::string>& names, int num_classes, const std::vector<std::string>& class_names,
                                          const std::string& where) {
  std::vector<int32_t> index(names.size(), -1);
  bool all = !class_names.empty();
  for (size_t i = 0; i < names.size() && all; ++i) {
    for (size_t c = 0; c < class_names.size(); ++c)
      if (NameKey(names[i]) == NameKey(class_names[c])) index[i] = static_cast<int32_t>(c);
    all = index[i] >= 0;
  }
  if (all) return index;
  if (static_cast<int>(names.size()) > num_classes)
    return Status::Error(where + ": " + std::to_string(names.size()) + " class names for a " + std::to_string(num_classes) + "-class model");
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < names.size(); ++i)
    index[i] = static_cast<int32_t>(std::lower_bound(sorted.begin(), sorted.end(), names[i]) - sorted.begin());
  return index;
}

}  // namespace

Expected<std::vector<LabelledFile>> ReadLabelsCsv(const std::string& dir, int num_classes, const std::vector<std::string>& class_names) {
  const std::string csv = dir + "/labels.csv";
  std::ifstream in(csv);
  if (!in) return Status::Error(csv + ": cannot open");
  std::vector<LabelledFile> out;
  std::vector<std::string> names;       // distinct class names, in order of appearance
  std::vector<size_t> named;            // entries of `out` labelled by name (label = index into names)
  std::string line;
  int line_no = 0;
  bool indices = false, first_line_named = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t comma = line.rfind(',');
    if (comma == std::string::npos) return Status::Error(csv + ":" + std::to_string(line_no) + ": expected 'file,label'");
    const std::string name = line.substr(0, comma), text = line.substr(comma + 1);
    const std::string path = !name.empty() && name[0] == '/' ? name : dir + "/" + name;
    int label = 0;
    try {
      size_t used = 0;
      label = std::stoi(text, &used);
      if (used != text.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      if (out.empty() && (IsHeaderWord(name, {"file", "filename", "image", "path"}) || IsHeaderWord(text, {"label", "class", "target"})))
        continue;  // header
      if (NameKey(text).empty()) return Status::Error(csv + ":" + std::to_string(line_no) + ": label '" + text + "' is neither an index nor a class name");
      const size_t k = std::find(names.begin(), names.end(), text) - names.begin();
      if (k == names.size()) names.push_back(text);
      if (out.empty() && line_no == 1) first_line_named = true;
      named.push_back(out.size());
      out.push_back({path, static_cast<int32_t>(k)});
      continue;
    }
    if (label < 0 || label >= num_classes)
      return Status::Error(csv + ":" + std::to_string(line_no) + ": label " + std::to_string(label) + " out of range for " +
                           std::to_string(num_classes) + " classes");
    indices = true;
    out.push_back({path, label});
  }
  // Any other non-integer first line before integer labels is a header too (as before names).
  if (indices && named.size() == 1 && named[0] == 0 && first_line_named) {
    out.erase(out.begin());
    named.clear();
  }
  if (out.empty()) return Status::Error(csv + ": no labelled files");
  if (indices && !named.empty()) return Status::Error(csv + ": labels mix class indices and class names ('" + names[0] + "')");
  if (!named.empty()) {
    PCLS_ASSIGN_OR_RETURN(const std::vector<int32_t> index, IndexNames(names, num_classes, class_names, csv));
    for (size_t i : named) out[i].label = index[static_cast<size_t>(out[i].label)];
  }
  return out;
}

Expected<std::vector<LabelledFile>> ListLabelledFiles(const std::string& dir, int num_classes, const std::vector<std::string>& class_names) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Error(dir + ": not a directory or an image cache (.pcache)");
  if (fs::exists(dir + "/labels.csv", ec)) return ReadLabelsCsv(dir, num_classes, class_names);
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) folders.push_back(e.path().filename().string());
  if (ec) return Status::Error(dir + ": " + ec.message());
  std::sort(folders.begin(), folders.end());
  if (folders.empty()) return Status::Error(dir + ": no labels.csv and no class folders");
  if (static_cast<int>(folders.size()) != num_classes)
    return Status::Error(dir + ": " + std::to_string(folders.size()) + " class folders for a " + std::to_string(num_classes) + "-class model");
  PCLS_ASSIGN_OR_RETURN(const std::vector<int32_t> index, IndexNames(folders, num_classes, class_names, dir));
  std::vector<LabelledFile> entries;
  for (size_t c = 0; c < folders.size(); ++c) {
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir + "/" + folders[c], ec))
      if (e.is_regular_file() && HasImageExtension(e.path().string())) files.push_back(e.path().string());
    if (ec) return Status::Error(dir + "/" + folders[c] + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (auto& f : files) entries.push_back({std::move(f), index[c]});
  }
  if (entries.empty()) return Status::Error(dir + ": no images in the class folders");
  return entries;
}

Image DatasetImage(const Image& image, int size, int channels) {
  return ResizeBilinear(channels == 1 ? ToGray(image) : ToRgb(image), size, size);
}

namespace {

std::string CachePrefix(const std::string& path) {
  const std::string ext = ".pcache";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) return path.substr(0, path.size() - ext.size());
  return path;
}

// Converts one image to the dataset's channels and size and stores it as image i.
Status StoreImage(const Image& img, size_t i, const std::string& name, Dataset* ds) {
  const Image im = DatasetImage(img, ds->size, ds->channels);
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
  PCLS_ASSIGN_OR_RETURN(const std::vector<LabelledFile> entries, ListLabelledFiles(dir, num_classes));
  if (!fs::exists(dir + "/labels.csv", ec)) {  // class folders: their names, sorted
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_directory()) ds.class_names.push_back(e.path().filename().string());
    std::sort(ds.class_names.begin(), ds.class_names.end());
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
