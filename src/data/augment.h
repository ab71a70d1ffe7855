// Training-time augmentation on uint8 HWC images (personcls::Image, 1 or 3 channels):
// SSCMA's pipeline for MobileNetV2-Rep (albumentations ops, then mmengine Resize and
// mmcls Rotate), random-resized-crop, and batch-level mixup / cutmix.
//
// Two layers:
//   * Per-op functions. Each takes its parameters explicitly and changes *img in place
//     (only the resize/crop ops change its size), so tests can check known pixels. The
//     Sample* functions draw those parameters from a caller-owned std::mt19937_64.
//   * AugmentConfig + Augment(): the pipeline, parsed from `--augment sscma|none|flip|LIST`.
//
// Randomness: every draw goes through Uniform01 below (53 bits of one mt19937_64 output),
// never through std::*_distribution, whose results differ between standard libraries. The
// same seed therefore gives the same images on every platform and thread count.
// Ops never allocate more than one image-sized scratch buffer and never fail; misuse
// (empty image, channels not 1 or 3, bad parameter) is a programmer error (assert).
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "personcls/image.h"
#include "personcls/status.h"

namespace personcls {

// ---- random draws ------------------------------------------------------------------------

// Uniform in [0, 1) from one rng() call.
inline double Uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-53; }
inline double Uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * Uniform01(rng); }
// Uniform integer in [lo, hi] (inclusive).
int UniformInt(std::mt19937_64& rng, int lo, int hi);
// True with probability p (consumes one draw even for p = 0 or 1, keeping streams aligned).
inline bool Bernoulli(std::mt19937_64& rng, double p) { return Uniform01(rng) < p; }
double Normal(std::mt19937_64& rng);                      // N(0, 1), Box-Muller
double Beta(std::mt19937_64& rng, double a, double b);    // Beta(a, b), a, b > 0 (Marsaglia-Tsang gammas)

// ---- pixel ops (size unchanged) -------------------------------------------------------------

void FlipHorizontal(Image* img);  // x -> W-1-x, exact
void FlipVertical(Image* img);    // y -> H-1-y, exact

// torchvision / albumentations ColorJitter semantics, applied in the order brightness,
// contrast, saturation (each factor 1 = identity, bit-exact):
//   brightness: v * b
//   contrast:   v * c + mean * (1 - c), mean = mean of the integer gray image (ToGray)
//   saturation: v * s + gray * (1 - s), gray per pixel (RGB only; gray images unchanged)
//   hue:        HueShift below by `hue` (0: none)
// Each rounded to nearest and clamped to [0, 255]. (albumentations shuffles the order;
// personcls keeps this one.)
struct ColorJitterParams {
  double brightness = 1.0, contrast = 1.0, saturation = 1.0;
  double hue = 0.0;  // fraction of the hue circle, in [-0.5, 0.5]
};
void ColorJitter(Image* img, const ColorJitterParams& p);
// Each factor uniform in [max(0, 1 - strength), 1 + strength]; hue stays 0 (the caller
// draws it, so that runs without hue keep their random stream).
ColorJitterParams SampleColorJitter(std::mt19937_64& rng, double strength);

// Hue rotation as albumentations does it for uint8 RGB (adjust_hue_torchvision): OpenCV's
// 8-bit RGB -> HSV (H in [0, 180), integer tables), H' = floor((H + 180 factor) mod 180)
// in double precision as numpy computes it (a result just below 180 can round to 180),
// then OpenCV's HSV -> RGB (single-precision float, truncated, as its vector code does).
// factor 0 or a 1-channel image: unchanged (no round trip). Against OpenCV 4.6's own
// results (tests/golden/augment/, scripts/augment_goldens.py) every value is within one
// level and all but 5 of 118,368 values are equal.
void HueShift(Image* img, double factor);

// Adds shift[c] to channel c, clamped to [0, 255] (albumentations RGBShift). Gray images
// use shift[0].
void RgbShift(Image* img, const std::array<int, 3>& shift);
// Each shift uniform in [-limit, limit] (albumentations default limit 20).
std::array<int, 3> SampleRgbShift(std::mt19937_64& rng, int limit);

// 3x3 median per channel, edges replicated (OpenCV medianBlur ksize 3).
void MedianBlur3(Image* img);

// RGB -> gray (ToGray's integer formula) replicated to 3 equal channels; gray unchanged.
void ToGray3(Image* img);

// Contrast-limited adaptive histogram equalization, OpenCV's CLAHE::apply on 8 bits: the
// image is cut into tiles_x x tiles_y equal tiles (a side that does not divide is first
// extended by reflection, BORDER_REFLECT_101, as OpenCV does); each tile's 256-bin
// histogram is clipped at max(1, int(clip_limit * tile_pixels / 256)) counts, the excess
// spread evenly over the bins (remainder one count per bin from bin 0 with stride), and its
// CDF x 255 / tile_pixels (float, rounded) is the tile's map; each pixel blends the maps of
// the four nearest tile centres bilinearly in single precision. Gray images are equalized
// directly; RGB images as albumentations does it, on L of OpenCV's 8-bit LAB (RgbToLab8,
// then LabToRgb8, data/color_lab.h). Both equal to OpenCV 4.6 (tests/golden/augment/
// clahe.safetensors and lab.safetensors).
void Clahe(Image* img, double clip_limit, int tiles_x = 8, int tiles_y = 8);

// albumentations RandomToneCurve: one S-curve for all channels, the cubic Bezier through
// with y control values low_y, high_y: lut[v] = round(255 * (3(1-t)^2 t low_y + 3(1-t) t^2
// high_y + t^3)), t = v / 255, clamped. low_y = 1/3, high_y = 2/3 is the identity (exact,
// thanks to the rounding).
void ToneCurve(Image* img, double low_y, double high_y);
struct ToneCurveParams {
  double low_y = 1.0 / 3.0, high_y = 2.0 / 3.0;
};
// low_y ~ clip(N(0.25, scale), 0, 1), high_y ~ clip(N(0.75, scale), 0, 1); scale 0.1 default.
ToneCurveParams SampleToneCurve(std::mt19937_64& rng, double scale);

// ---- geometry ------------------------------------------------------------------------------

// Destination pixel (x, y) samples the source at (m[0] x + m[1] y + m[2], m[3] x + m[4] y +
// m[5]) (an inverse map), bilinearly; taps outside the image read `fill` (OpenCV
// warpAffine with WARP_INVERSE_MAP, BORDER_CONSTANT). Output rounded to nearest.
void WarpAffineInverse(Image* img, const std::array<double, 6>& m, uint8_t fill);

// Moves the content by (tx * W, ty * H) pixels (right / down for positive values), border
// filled with `fill` (albumentations Affine: 0).
void Translate(Image* img, double tx, double ty, uint8_t fill = 0);

// Rotates about the centre ((W-1)/2, (H-1)/2) by `degrees`, positive = clockwise on screen
// (mmcv imrotate), bilinear, border `fill` (mmcls Rotate pads with 128). 90 degrees maps
// (x, y) to (cx - (y - cy), cy + (x - cx)) exactly on a square image.
void Rotate(Image* img, double degrees, uint8_t fill = 128);

// Stretch-resize (ResizeBilinear of include/personcls/image.h); no-op at the same size.
void StretchResize(Image* img, int width, int height);

// A crop rectangle in source pixels.
struct CropRect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const CropRect&) const = default;
};
// torchvision RandomResizedCrop.get_params: up to 10 tries of area = W*H*U(area_min,
// area_max), aspect (w/h) = exp(U(log ratio_min, log ratio_max)), w = round(sqrt(area *
// aspect)), h = round(sqrt(area / aspect)); the first that fits gets x ~ U{0..W-w},
// y ~ U{0..H-h}. Otherwise a centre crop with the aspect clamped to the range.
// Distillation uses area [0.35, 1] and [0.6, 1]; torchvision's ratio is [3/4, 4/3].
CropRect SampleResizedCrop(std::mt19937_64& rng, int width, int height, double area_min, double area_max,
                           double ratio_min = 3.0 / 4.0, double ratio_max = 4.0 / 3.0);
// Cuts `rect` (inside the image; asserted) and stretch-resizes it to out_w x out_h.
void CropResize(Image* img, const CropRect& rect, int out_w, int out_h);

// ---- batch-level mixing (all images of one size and channel count) ----------------------------

// Sample i is mixed with sample partner[i] (torchvision's roll by one: partner[i] = i - 1
// mod n, so a batch of one mixes with itself). Its label target is
//   lambda * onehot(label[i]) + (1 - lambda) * onehot(label[partner[i]]).
struct MixResult {
  std::vector<int> partner;
  double lambda = 1.0;
};
// Mixup: pixel = round(lambda * a + (1 - lambda) * b). Returns the partners and lambda.
MixResult MixupWithLambda(std::vector<Image>* batch, double lambda);
// Lambda ~ Beta(alpha, alpha) (timm / torchvision use alpha 0.2 .. 1.0).
MixResult Mixup(std::vector<Image>* batch, double alpha, std::mt19937_64& rng);
// Cutmix: the pixels of `box` come from the partner; lambda = 1 - box area / image area.
MixResult CutmixWithBox(std::vector<Image>* batch, const CropRect& box);
// lambda0 ~ Beta(alpha, alpha); box of size (W sqrt(1-lambda0), H sqrt(1-lambda0)) centred
// at a uniform pixel, clipped to the image; lambda from the clipped area (torchvision).
MixResult Cutmix(std::vector<Image>* batch, double alpha, std::mt19937_64& rng);

// ---- the pipeline --------------------------------------------------------------------------

// In the order Augment() applies them. SSCMA's list is everything but kResizedCrop.
enum class AugmentOp : int {
  kColorJitter,  // "jitter"
  kTranslate,    // "translate"
  kRgbShift,     // "rgbshift"
  kMedianBlur,   // "median"
  kToGray,       // "gray"
  kClahe,        // "clahe"
  kHFlip,        // "hflip"
  kVFlip,        // "vflip"
  kToneCurve,    // "tonecurve"
  kResizedCrop,  // "resized-crop": RandomResizedCrop to the output size, instead of the stretch-resize
  kRotate,       // "rotate" (after the resize to the output size)
  kCount
};
inline constexpr int kAugmentOpCount = static_cast<int>(AugmentOp::kCount);
const char* AugmentOpName(AugmentOp op);

// Which ops run and with what probability / range. Defaults are SSCMA's config
// (configs/classification/mobnetv2_*_rep_*.py) with albumentations' defaults filled in.
struct AugmentConfig {
  std::array<bool, kAugmentOpCount> enabled{};
  double crop_p = 1.0, crop_area_min = 0.35, crop_area_max = 1.0, crop_ratio_min = 3.0 / 4.0, crop_ratio_max = 4.0 / 3.0;
  double jitter_p = 0.5, jitter_strength = 0.3;
  double jitter_hue = 0.2;  // hue factor uniform in [-jitter_hue, jitter_hue] (albumentations' default)
  double translate_p = 0.3, translate_min = 0.05, translate_max = 0.30;  // each axis, fraction of W / H
  double rgb_shift_p = 0.5;
  int rgb_shift_limit = 20;
  double median_p = 0.5;
  double gray_p = 0.3;
  double clahe_p = 0.3, clahe_clip_min = 1.0, clahe_clip_max = 4.0;  // albumentations: clip ~ U(1, 4), 8x8 tiles
  double hflip_p = 0.5, vflip_p = 0.5;
  double tone_p = 0.5, tone_scale = 0.1;
  double rotate_p = 0.5, rotate_degrees = 30.0;  // mmcls: exactly +-30, sign random
  uint8_t rotate_fill = 128, translate_fill = 0;

  bool on(AugmentOp op) const { return enabled[static_cast<int>(op)]; }
  bool any() const;
  // "none", or the enabled op names comma-separated in pipeline order.
  std::string ToString() const;
};

// Parses `--augment`: "none"; "sscma" (SSCMA's list); "flip" (hflip only, p 0.5: the
// trainer's original option); or a comma-separated LIST of op names, "sscma" and "-name"
// (removes an op), read left to right: "sscma,-clahe,-vflip", "hflip,resized-crop".
// Errors name the bad item and list the valid names.
Expected<AugmentConfig> ParseAugment(const std::string& spec);

// Runs the enabled ops on a copy of `src`: each fires with its probability, in
// AugmentOp order, at src's size; then the image is stretch-resized (or resized-cropped) to
// out_w x out_h, then rotated. The result is always out_w x out_h with src's channels. All randomness
// comes from `rng`, so (src, config, rng state) determine the output.
Image Augment(const Image& src, const AugmentConfig& config, int out_w, int out_h, std::mt19937_64& rng);

}  // namespace personcls
