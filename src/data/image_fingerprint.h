// Training-image fingerprints: a compact record, kept in a model's metadata
// ("training_fingerprint"), of the images the model was fit to, so that `eval` can
// say how many of the images it scores the model has already seen.
//
// What is hashed: an image's pixels as training stores them (data/dataset.h: decoded,
// converted to the model's channels, stretch-resized bilinearly to its input size), not its
// file bytes. So a .bin, a PNG of the same pixels and an image cache record all match, and
// eval hashes what it decodes anyway; an image cache (`vww build`) has no file bytes at
// all. The same photo decoded or resized differently (a JPEG vs its 1/4-scale cache record)
// does not match.
//
// The set: SHA-256 of the pixels, first 8 bytes as a big-endian 64-bit h. The top 32 bits
// sample: an image is in the sample when h >> 32 < sample_below (2^32: every image). At most
// kMaxFingerprintImages images are kept (the ones with the smallest h >> 32), so a model
// trained on 100,000 images carries a 1-in-100 sample instead of 200 KB. The kept images'
// low 32 bits map to v = (h mod 2^32) * n * 2^bits >> 32 in [0, n * 2^bits), and the sorted
// v are Golomb-Rice coded with parameter `bits` (about bits + 1.6 bits per image; two kept
// images with the same v both stay, as a zero delta, so that n is the number of values). A
// sampled image that was not trained on matches with probability 2^-bits (1.5e-5 for 16):
// the false-match rate. At the cap, 1,024 images take ~2.3 KB, ~3 KB as text.
//
// Text form (metadata value, printable ASCII):
//   "pcfp1 size=96 channels=3 images=500 sample_below=4294967296 count=500 bits=16 data=BASE64"
// images: training images (distinct pixels); count: values coded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "personcls/status.h"

namespace personcls {

inline constexpr size_t kMaxFingerprintImages = 1024;
inline constexpr int kFingerprintBits = 16;
inline constexpr char kFingerprintMetadataKey[] = "training_fingerprint";

// SHA-256 of the bytes, first 8 bytes big-endian.
uint64_t PixelHash(const uint8_t* pixels, size_t bytes);
// SHA-256 of the bytes as 64 lower-case hex digits (what sha256sum prints).
std::string Sha256Hex(const uint8_t* bytes, size_t size);

class ImageFingerprint {
 public:
  enum class Match { kNotSampled, kAbsent, kPresent };

  // From `count` images of size x size x channels bytes each, contiguous (a Dataset's pixels).
  static ImageFingerprint Build(const uint8_t* pixels, size_t count, int size, int channels, size_t max_images = kMaxFingerprintImages);
  // From PixelHash values of the training images (duplicates allowed).
  static ImageFingerprint FromHashes(std::vector<uint64_t> hashes, int size, int channels, size_t max_images = kMaxFingerprintImages);
  // Parses the text form; errors say what is malformed.
  static Expected<ImageFingerprint> Parse(const std::string& text);
  std::string ToText() const;

  // `pixels`: size() x size() x channels() bytes, as Build takes them.
  Match Lookup(const uint8_t* pixels) const;
  Match LookupHash(uint64_t pixel_hash) const;

  int size() const { return size_; }
  int channels() const { return channels_; }
  int64_t images() const { return images_; }  // distinct training images
  // Share of all images that fall in the sample (1 when every training image is kept).
  double sampled_fraction() const { return static_cast<double>(sample_below_) / 4294967296.0; }
  bool complete() const { return sample_below_ == (uint64_t{1} << 32); }
  double false_match_rate() const { return 1.0 / static_cast<double>(uint64_t{1} << bits_); }
  size_t count() const { return values_.size(); }

 private:
  int size_ = 0, channels_ = 0, bits_ = kFingerprintBits;
  int64_t images_ = 0;
  uint64_t sample_below_ = uint64_t{1} << 32;
  std::vector<uint64_t> values_;  // sorted, distinct, < count * 2^bits
};

}  // namespace personcls
