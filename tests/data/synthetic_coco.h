// A small synthetic COCO 2014 tree for the VWW builder tests (library and CLI):
//   ROOT/annotations/instances_{train,val}2014.json, ROOT/{train,val}2014/*.jpg
// shaped like the real files (info, images, licenses, annotations with segmentation
// polygons and bbox, then categories, "person" not first), with person annotations of
// chosen areas around the threshold. Each image knows the label VWW must give it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/image_encoders.h"
#include "test_util.h"

namespace personcls::testing {

struct SyntheticAnnotation {
  int64_t category_id;  // kPersonCategory or another
  double area;
  bool crowd = false;
};

struct SyntheticImage {
  int64_t id;
  bool val;  // val2014 (else train2014)
  int width, height;
  std::vector<SyntheticAnnotation> annotations;
  int expected_label;
  bool gray = false;

  std::string dir() const { return val ? "val2014" : "train2014"; }
  std::string file_name() const {
    char name[64];
    std::snprintf(name, sizeof(name), "COCO_%s_%012lld.jpg", dir().c_str(), static_cast<long long>(id));
    return name;
  }
  std::string file() const { return dir() + "/" + file_name(); }  // relative to the root
};

inline constexpr int64_t kPersonCategory = 7;  // not 1: found by name
inline constexpr int64_t kDogCategory = 18;

// 24 images at threshold 0.005. Areas are fractions of width * height; 0.005 * 2000 = 10
// exactly, so the "equal" case is exact in double.
inline std::vector<SyntheticImage> SyntheticCocoImages() {
  std::vector<SyntheticImage> images;
  auto add = [&](int64_t id, bool val, int w, int h, std::vector<SyntheticAnnotation> anns, int label) {
    images.push_back({id, val, w, h, std::move(anns), label});
  };
  const double t = 0.005;
  add(9, false, 64, 48, {{kPersonCategory, t * 64 * 48 * 1.01}}, 1);                   // just above
  add(25, false, 64, 48, {{kPersonCategory, t * 64 * 48 * 0.99}}, 0);                  // just below
  add(30, false, 40, 50, {{kPersonCategory, 10.0}}, 0);                                // equal: not above
  add(34, false, 50, 40, {{kPersonCategory, 10.5, true}}, 1);                          // crowd counts
  add(36, false, 72, 40, {{kDogCategory, 2000.0}}, 0);                                 // big dog only
  add(42, true, 48, 64, {}, 0);                                                        // nothing annotated
  add(49, true, 33, 47, {{kPersonCategory, 1.0}, {kPersonCategory, 33 * 47 * 0.2}}, 1);  // one of two
  add(61, true, 96, 96, {{kPersonCategory, 96 * 96 * 0.004}, {kDogCategory, 3000.0}}, 0);
  for (int i = 0; i < 16; ++i) {  // bulk, alternating labels, odd sizes
    const bool person = i % 2 == 0;
    const int w = 40 + 3 * i, h = 30 + 2 * i;
    add(100 + 7 * i, i % 3 == 0, w, h, {{person ? kPersonCategory : kDogCategory, w * h * 0.3}}, person ? 1 : 0);
  }
  images[5].gray = true;  // COCO has some grayscale JPEGs
  return images;
}

inline std::string SyntheticInstancesJson(const std::vector<SyntheticImage>& images, bool val) {
  std::string j = "{\"info\": {\"description\": \"synthetic\", \"year\": 2014},\n\"images\": [";
  bool first = true;
  for (const auto& im : images) {
    if (im.val != val) continue;
    j += std::string(first ? "" : ",") + "\n{\"license\": 3, \"file_name\": \"" + im.file_name() +
         "\", \"coco_url\": \"http://x/y.jpg\", \"height\": " + std::to_string(im.height) + ", \"width\": " +
         std::to_string(im.width) + ", \"date_captured\": \"2013-11-14 11:18:45\", \"id\": " + std::to_string(im.id) + "}";
    first = false;
  }
  j += "],\n\"licenses\": [{\"url\": \"http://creativecommons.org/\", \"id\": 1, \"name\": \"CC\"}],\n\"annotations\": [";
  first = true;
  int64_t ann_id = val ? 900000 : 100000;
  for (const auto& im : images) {
    if (im.val != val) continue;
    for (const auto& a : im.annotations) {
      const std::string seg = a.crowd ? "{\"counts\": [272, 2, 4, 4], \"size\": [240, 320]}"
                                      : "[[1.5, 2.25, 10.0, 2.0, 10.0, 12.75, 1.0, 12.0]]";
      j += std::string(first ? "" : ",") + "\n{\"segmentation\": " + seg + ", \"area\": " + std::to_string(a.area) +
           ", \"iscrowd\": " + (a.crowd ? "1" : "0") + ", \"image_id\": " + std::to_string(im.id) +
           ", \"bbox\": [1.0, 2.0, 9.0, 10.75], \"category_id\": " + std::to_string(a.category_id) + ", \"id\": " +
           std::to_string(ann_id++) + "}";
      first = false;
    }
  }
  j += "],\n\"categories\": [{\"supercategory\": \"vehicle\", \"id\": 2, \"name\": \"bicycle\"}, "
       "{\"supercategory\": \"person\", \"id\": " + std::to_string(kPersonCategory) + ", \"name\": \"person\"}, "
       "{\"supercategory\": \"animal\", \"id\": " + std::to_string(kDogCategory) + ", \"name\": \"dog\"}]}\n";
  return j;
}

inline void WriteText(const std::string& path, const std::string& text) {
  WriteFileBytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// Writes the tree under `root` and returns the images (with their expected labels).
inline std::vector<SyntheticImage> WriteSyntheticCoco(const std::string& root) {
  const std::vector<SyntheticImage> images = SyntheticCocoImages();
  for (const char* d : {"annotations", "train2014", "val2014"}) std::filesystem::create_directories(root + "/" + d);
  // std::to_string prints areas with 6 decimals; every area is either exact in that form
  // (the "equal" case, 10.000000) or 1 % away from the threshold, so no label can flip.
  WriteText(root + "/annotations/instances_train2014.json", SyntheticInstancesJson(images, false));
  WriteText(root + "/annotations/instances_val2014.json", SyntheticInstancesJson(images, true));
  for (const auto& im : images) {
    JpegOptions options;
    options.quality = 90;
    options.subsample = true;
    WriteFileBytes(root + "/" + im.file(), EncodeJpeg(MakePattern(im.width, im.height, im.gray ? 1 : 3), options));
  }
  return images;
}

}  // namespace personcls::testing
