// COCO "instances" annotation files (instances_train2014.json, ...) and the Visual Wake
// Words labels derived from them.
//
// Only what VWW needs is kept: images (id, file_name, width, height), the id of the
// category named "person", and per annotation (image_id, category_id, area, iscrowd).
// Segmentation polygons and everything else are skipped by simdjson's on-demand parser
// without being materialised, so a 332 MB file parses in well under a second.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "personcls/status.h"

namespace personcls {

struct CocoImage {
  int64_t id = 0;
  std::string file_name;  // as in the JSON, e.g. "COCO_train2014_000000000009.jpg"
  int32_t width = 0, height = 0;
};

struct CocoAnnotation {
  int64_t image_id = 0;
  int64_t category_id = 0;
  double area = 0;  // the annotation's own `area` field (segmentation area, pixels)
  bool iscrowd = false;
};

struct CocoInstances {
  std::vector<CocoImage> images;            // file order
  std::vector<CocoAnnotation> annotations;  // file order
  int64_t person_category_id = 0;
};

// Parses an instances file. Errors are one line naming the file: a missing file,
// malformed JSON (with simdjson's reason), a missing array or field ("images[12]: missing
// 'width'"), a wrong type, a non-positive image size, a file_name that is empty, holds
// '/', ',', '"' or a line break, or no category named "person".
Expected<CocoInstances> ReadCocoInstances(const std::string& path);
// The same on JSON text already in memory; `name` is used in errors.
Expected<CocoInstances> ParseCocoInstances(std::string_view json, const std::string& name);

// One image with its VWW label.
struct VwwImage {
  int64_t id = 0;
  std::string file;  // relative to the COCO root: image_dir + "/" + file_name
  int32_t width = 0, height = 0;
  int32_t label = 0;  // 1 = person, 0 = not a person
};

struct VwwLabelStats {
  size_t person_annotations = 0;
  size_t crowd_person_annotations = 0;
  // Person annotations that cannot label anything, skipped: an image_id not among the
  // images, or a negative area (COCO areas are pixel counts). The first few of each as
  // "annotations[i]: image_id 77 names no image" / "annotations[i]: area -3.5".
  size_t orphan_annotations = 0;
  size_t negative_area_annotations = 0;
  std::vector<std::string> orphan_examples, negative_area_examples;
};

// The VWW definition: 1 when any annotation of the person category has
// area / (width * height) > threshold (crowd annotations included), else 0. Person
// annotations with an unknown image_id or a negative area are skipped and counted in
// `stats`. Images keep file order. Duplicate image ids are an error naming the id.
Expected<std::vector<VwwImage>> LabelVww(const CocoInstances& coco, const std::string& image_dir, double threshold,
                                         const std::string& name, VwwLabelStats* stats = nullptr);

}  // namespace personcls
