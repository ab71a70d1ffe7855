// Augmentation pipeline: `--augment` parsing and Augment(). See augment.h.
#include <cassert>
#include <sstream>

#include "data/augment.h"

namespace personcls {
namespace {

constexpr const char* kOpNames[kAugmentOpCount] = {"jitter", "translate", "rgbshift", "median", "gray",        "clahe",
                                                    "hflip",  "vflip",     "tonecurve", "resized-crop", "rotate"};

std::string ValidNames() {
  std::string s = "none, sscma, flip";
  for (const char* n : kOpNames) {
    s += ", ";
    s += n;
  }
  return s;
}

}  // namespace

const char* AugmentOpName(AugmentOp op) { return kOpNames[static_cast<int>(op)]; }

bool AugmentConfig::any() const {
  for (bool e : enabled)
    if (e) return true;
  return false;
}

std::string AugmentConfig::ToString() const {
  std::string s;
  for (int i = 0; i < kAugmentOpCount; ++i) {
    if (!enabled[i]) continue;
    if (!s.empty()) s += ',';
    s += kOpNames[i];
  }
  return s.empty() ? "none" : s;
}

Expected<AugmentConfig> ParseAugment(const std::string& spec) {
  AugmentConfig config;
  if (spec == "none") return config;
  if (spec == "flip") {
    config.enabled[static_cast<int>(AugmentOp::kHFlip)] = true;
    return config;
  }
  std::stringstream ss(spec);
  std::string item;
  bool any_item = false;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    any_item = true;
    if (item == "sscma") {
      for (int i = 0; i < kAugmentOpCount; ++i) config.enabled[i] = i != static_cast<int>(AugmentOp::kResizedCrop);
      continue;
    }
    const bool remove = item[0] == '-';
    const std::string name = remove ? item.substr(1) : item;
    int found = -1;
    for (int i = 0; i < kAugmentOpCount; ++i)
      if (name == kOpNames[i]) found = i;
    if (found < 0) return Status::Error("--augment: unknown op '" + item + "' (valid: " + ValidNames() + ")");
    config.enabled[found] = !remove;
  }
  if (!any_item) return Status::Error("--augment: empty list (valid: " + ValidNames() + ")");
  return config;
}

Image Augment(const Image& src, const AugmentConfig& c, int out_w, int out_h, std::mt19937_64& rng) {
  assert(src.width > 0 && src.height > 0 && (src.channels == 1 || src.channels == 3) && out_w > 0 && out_h > 0);
  Image img = src;
  // Each enabled op draws its coin first, then (only when it fires) its parameters.
  auto fires = [&](AugmentOp op, double p) { return c.on(op) && Bernoulli(rng, p); };
  if (fires(AugmentOp::kColorJitter, c.jitter_p)) {
    ColorJitterParams jitter = SampleColorJitter(rng, c.jitter_strength);
    if (c.jitter_hue > 0) jitter.hue = Uniform(rng, -c.jitter_hue, c.jitter_hue);
    ColorJitter(&img, jitter);
  }
  if (fires(AugmentOp::kTranslate, c.translate_p)) {
    const double tx = Uniform(rng, c.translate_min, c.translate_max), ty = Uniform(rng, c.translate_min, c.translate_max);
    Translate(&img, tx, ty, c.translate_fill);
  }
  if (fires(AugmentOp::kRgbShift, c.rgb_shift_p)) RgbShift(&img, SampleRgbShift(rng, c.rgb_shift_limit));
  if (fires(AugmentOp::kMedianBlur, c.median_p)) MedianBlur3(&img);
  if (fires(AugmentOp::kToGray, c.gray_p)) ToGray3(&img);
  if (fires(AugmentOp::kClahe, c.clahe_p)) Clahe(&img, Uniform(rng, c.clahe_clip_min, c.clahe_clip_max));
  if (fires(AugmentOp::kHFlip, c.hflip_p)) FlipHorizontal(&img);
  if (fires(AugmentOp::kVFlip, c.vflip_p)) FlipVertical(&img);
  if (fires(AugmentOp::kToneCurve, c.tone_p)) {
    const ToneCurveParams t = SampleToneCurve(rng, c.tone_scale);
    ToneCurve(&img, t.low_y, t.high_y);
  }
  if (fires(AugmentOp::kResizedCrop, c.crop_p)) {
    const CropRect r = SampleResizedCrop(rng, img.width, img.height, c.crop_area_min, c.crop_area_max, c.crop_ratio_min, c.crop_ratio_max);
    CropResize(&img, r, out_w, out_h);
  } else {
    StretchResize(&img, out_w, out_h);
  }
  if (fires(AugmentOp::kRotate, c.rotate_p)) Rotate(&img, Bernoulli(rng, 0.5) ? -c.rotate_degrees : c.rotate_degrees, c.rotate_fill);
  return img;
}

}  // namespace personcls
