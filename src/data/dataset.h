// A labelled image set held in memory for training and evaluation: every image decoded,
// converted to RGB (or gray) and stretch-resized (bilinear) to the model input, stored as
// uint8 HWC. The loader (data/loader.h) streams batches of it.
//
// Sources accepted by LoadDataset(path):
//   PATH.pcache / PATH   an image cache of `personcls vww build` (data/image_cache.h): PATH is
//                        "DIR/SPLIT" or "DIR/SPLIT.pcache"; labels from SPLIT.index.csv
//   DIR/labels.csv       lines "file,label": label a class index or a class name; file
//                        relative to DIR or absolute; a first line naming the columns
//                        ("file"/"filename"/"image"/"path", or "label"/"class") is a header.
//                        MLPerf .bin sets (vww01-dev) are this layout with raw 96x96x3 files
//   DIR/<class>/*        one sub-directory per class, image files (HasImageExtension) found
//                        recursively, sorted
// Class names (labels.csv names, class folders) become indices by `class_names` when every
// name matches one of them (ignoring case and anything but letters and digits: "person"
// matches "Person", "not_a_person" matches "Not a person"), else by their sorted order.
// A cache wins over a directory of the same name; labels.csv wins over class folders.
// Errors are one line naming the file (and line).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "personcls/image.h"
#include "personcls/status.h"

namespace personcls {

struct Dataset {
  int size = 96;      // H = W
  int channels = 3;   // 3 (RGB) or 1 (gray)
  std::vector<uint8_t> pixels;  // count() * size * size * channels bytes
  std::vector<int32_t> labels;
  std::vector<std::string> files;
  std::vector<std::string> class_names;  // class folders; empty for labels.csv
  // Optional (image pools, distill/image_pool.h): the source each image came from, an index
  // into source_names; empty when the set has no sources.
  std::vector<int32_t> sources;
  std::vector<std::string> source_names;

  size_t count() const { return labels.size(); }
  size_t image_bytes() const { return static_cast<size_t>(size) * size * channels; }
  const uint8_t* image(size_t i) const { return pixels.data() + i * image_bytes(); }
};

struct LabelledFile {
  std::string path;  // DIR/file
  int32_t label;
};

// Reads DIR/labels.csv (see above); labels must be < num_classes. `class_names`: see above
// (e.g. a model's labels; empty: names in sorted order).
Expected<std::vector<LabelledFile>> ReadLabelsCsv(const std::string& dir, int num_classes, const std::vector<std::string>& class_names = {});

// The labelled image files of DIR: labels.csv, else class folders (see above). Not for
// image caches (their images are in the cache).
Expected<std::vector<LabelledFile>> ListLabelledFiles(const std::string& dir, int num_classes, const std::vector<std::string>& class_names = {});

// An image as a Dataset stores it: ToGray (channels 1) or ToRgb (3), then stretch-resized
// bilinearly to size x size. Training-image fingerprints hash exactly these pixels.
Image DatasetImage(const Image& image, int size, int channels);

// True when `path` names an image cache (PATH.pcache exists, or PATH ends in .pcache).
bool IsImageCachePath(const std::string& path);

// num_classes bounds the labels (labels.csv, cache) or must equal the number of class
// folders. A cache's images are moved, not copied, when already at input_size x input_size
// with the wanted channels (a VWW train cache is ~3 GB).
Expected<Dataset> LoadDataset(const std::string& path, int input_size = 96, int num_classes = 2, bool gray = false);

}  // namespace personcls
