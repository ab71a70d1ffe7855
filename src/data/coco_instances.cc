// COCO instances parsing (simdjson on-demand) and VWW labelling.
//
// On-demand parsing validates the structure of the whole document (stage 1 indexes every
// bracket and quote) but only converts the values we visit: a malformed number inside a
// skipped segmentation polygon goes unnoticed, while truncation, unbalanced brackets and
// bad fields we read are errors.
#include "data/coco_instances.h"

#include <simdjson.h>

#include <cstdio>
#include <limits>
#include <unordered_map>

namespace personcls {
namespace {

namespace od = simdjson::ondemand;

// Thrown for semantic problems (missing field, bad value); simdjson throws its own
// simdjson_error for malformed JSON. Both end up in one Status line.
struct CocoError {
  std::string message;
};

int32_t ImageSide(int64_t v, const char* field, const std::string& where) {
  if (v < 1 || v > std::numeric_limits<int32_t>::max()) throw CocoError{where + ": invalid " + field + " " + std::to_string(v)};
  return static_cast<int32_t>(v);
}

void ParseImage(od::object object, const std::string& where, CocoImage* image) {
  bool have_id = false, have_name = false, have_width = false, have_height = false;
  for (auto field : object) {
    od::raw_json_string key = field.key();
    if (key == "id") {
      image->id = field.value().get_int64();
      have_id = true;
    } else if (key == "file_name") {
      image->file_name = std::string(std::string_view(field.value().get_string()));
      have_name = true;
    } else if (key == "width") {
      image->width = ImageSide(field.value().get_int64(), "width", where);
      have_width = true;
    } else if (key == "height") {
      image->height = ImageSide(field.value().get_int64(), "height", where);
      have_height = true;
    }
  }
  if (!have_id) throw CocoError{where + ": missing 'id'"};
  if (!have_name) throw CocoError{where + ": missing 'file_name'"};
  if (!have_width) throw CocoError{where + ": missing 'width'"};
  if (!have_height) throw CocoError{where + ": missing 'height'"};
  const std::string& n = image->file_name;
  // The name becomes a path under train2014/ and a CSV field: no directories, no quoting.
  if (n.empty() || n == "." || n == ".." || n.find_first_of("/,\"\r\n") != std::string::npos) {
    throw CocoError{where + ": unusable file_name '" + n + "'"};
  }
}

void ParseAnnotation(od::object object, const std::string& where, CocoAnnotation* annotation) {
  bool have_image = false, have_category = false, have_area = false;
  for (auto field : object) {
    od::raw_json_string key = field.key();
    if (key == "image_id") {
      annotation->image_id = field.value().get_int64();
      have_image = true;
    } else if (key == "category_id") {
      annotation->category_id = field.value().get_int64();
      have_category = true;
    } else if (key == "area") {
      annotation->area = field.value().get_double();
      have_area = true;
    } else if (key == "iscrowd") {
      annotation->iscrowd = field.value().get_int64() != 0;
    }
  }
  if (!have_image) throw CocoError{where + ": missing 'image_id'"};
  if (!have_category) throw CocoError{where + ": missing 'category_id'"};
  if (!have_area) throw CocoError{where + ": missing 'area'"};
}

// `section` and `index` say where we are, for the error message.
CocoInstances Parse(const simdjson::padded_string_view json, std::string* section, size_t* index) {
  CocoInstances coco;
  bool have_images = false, have_annotations = false, have_categories = false, have_person = false;
  od::parser parser;
  od::document doc = parser.iterate(json);
  for (auto field : doc.get_object()) {
    od::raw_json_string key = field.key();
    if (key == "images") {
      *section = "images";
      *index = 0;
      for (auto value : field.value().get_array()) {
        CocoImage image;
        ParseImage(value.get_object(), "images[" + std::to_string(*index) + "]", &image);
        coco.images.push_back(std::move(image));
        ++*index;
      }
      have_images = true;
    } else if (key == "annotations") {
      *section = "annotations";
      *index = 0;
      for (auto value : field.value().get_array()) {
        CocoAnnotation annotation;
        ParseAnnotation(value.get_object(), "annotations[" + std::to_string(*index) + "]", &annotation);
        coco.annotations.push_back(annotation);
        ++*index;
      }
      have_annotations = true;
    } else if (key == "categories") {
      *section = "categories";
      *index = 0;
      for (auto value : field.value().get_array()) {
        od::object category = value.get_object();
        int64_t id = 0;
        bool have_id = false, is_person = false;
        for (auto f : category) {
          od::raw_json_string k = f.key();
          if (k == "id") {
            id = f.value().get_int64();
            have_id = true;
          } else if (k == "name") {
            is_person = std::string_view(f.value().get_string()) == "person";
          }
        }
        const std::string where = "categories[" + std::to_string(*index) + "]";
        if (!have_id) throw CocoError{where + ": missing 'id'"};
        if (is_person && have_person) throw CocoError{where + ": a second category named 'person'"};
        if (is_person) {
          coco.person_category_id = id;
          have_person = true;
        }
        ++*index;
      }
      have_categories = true;
    }
    section->clear();
  }
  if (!have_images) throw CocoError{"no 'images' array"};
  if (!have_annotations) throw CocoError{"no 'annotations' array"};
  if (!have_categories) throw CocoError{"no 'categories' array"};
  if (!have_person) throw CocoError{"no category named 'person'"};
  return coco;
}

Expected<CocoInstances> ParsePadded(simdjson::padded_string_view json, const std::string& name) {
  std::string section;
  size_t index = 0;
  try {
    return Parse(json, &section, &index);
  } catch (const CocoError& e) {
    return Status::Error(name + ": " + e.message);
  } catch (const simdjson::simdjson_error& e) {
    const std::string where = section.empty() ? "" : " in " + section + "[" + std::to_string(index) + "]";
    return Status::Error(name + ": malformed JSON" + where + ": " + e.what());
  }
}

}  // namespace

Expected<CocoInstances> ReadCocoInstances(const std::string& path) {
  simdjson::padded_string json;
  const simdjson::error_code error = simdjson::padded_string::load(path).get(json);
  if (error) return Status::Error(path + ": cannot read: " + simdjson::error_message(error));
  return ParsePadded(json, path);
}

Expected<CocoInstances> ParseCocoInstances(std::string_view json, const std::string& name) {
  const simdjson::padded_string padded(json);
  return ParsePadded(padded, name);
}

Expected<std::vector<VwwImage>> LabelVww(const CocoInstances& coco, const std::string& image_dir, double threshold,
                                         const std::string& name, VwwLabelStats* stats) {
  VwwLabelStats local;
  std::vector<VwwImage> images;
  images.reserve(coco.images.size());
  std::unordered_map<int64_t, size_t> position;
  position.reserve(coco.images.size());
  for (const CocoImage& image : coco.images) {
    if (!position.emplace(image.id, images.size()).second) {
      return Status::Error(name + ": duplicate image id " + std::to_string(image.id));
    }
    images.push_back({image.id, image_dir + "/" + image.file_name, image.width, image.height, 0});
  }
  constexpr size_t kExamples = 3;
  for (size_t k = 0; k < coco.annotations.size(); ++k) {
    const CocoAnnotation& a = coco.annotations[k];
    if (a.category_id != coco.person_category_id) continue;
    ++local.person_annotations;
    local.crowd_person_annotations += a.iscrowd;
    const std::string where = "annotations[" + std::to_string(k) + "]";
    auto it = position.find(a.image_id);
    if (it == position.end()) {
      if (local.orphan_annotations++ < kExamples) local.orphan_examples.push_back(where + ": image_id " + std::to_string(a.image_id) + " names no image");
      continue;
    }
    if (a.area < 0) {
      if (local.negative_area_annotations++ < kExamples) {
        char area[32];
        std::snprintf(area, sizeof(area), "%.9g", a.area);
        local.negative_area_examples.push_back(where + ": area " + area);
      }
      continue;
    }
    VwwImage& image = images[it->second];
    const double fraction = a.area / (static_cast<double>(image.width) * image.height);
    if (fraction > threshold) image.label = 1;
  }
  if (stats != nullptr) *stats = local;
  return images;
}

}  // namespace personcls
