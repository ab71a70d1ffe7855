// libFuzzer target: COCO instances JSON (ParseCocoInstances + LabelVww) on arbitrary
// bytes. The result must be an error naming the input ("fuzz: ...") or instances whose
// labelling succeeds or fails with such an error, with labels 0 or 1.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/coco_instances.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  personcls::Expected<personcls::CocoInstances> coco = personcls::ParseCocoInstances(json, "fuzz");
  if (!coco.ok()) {
    if (coco.status().message().rfind("fuzz: ", 0) != 0) __builtin_trap();
    return 0;
  }
  auto labelled = personcls::LabelVww(*coco, "train2014", 0.005, "fuzz");
  if (!labelled.ok()) {
    if (labelled.status().message().rfind("fuzz: ", 0) != 0) __builtin_trap();
    return 0;
  }
  if (labelled->size() != coco->images.size()) __builtin_trap();
  for (const personcls::VwwImage& im : *labelled) {
    if ((im.label != 0 && im.label != 1) || im.width < 1 || im.height < 1) __builtin_trap();
  }
  return 0;
}
