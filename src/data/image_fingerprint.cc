#include "data/image_fingerprint.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>

namespace personcls {
namespace {

uint64_t MapToRange(uint64_t h, size_t count, int bits) { return ((h & 0xffffffffu) * (static_cast<uint64_t>(count) << bits)) >> 32; }

class BitWriter {
 public:
  void Put(bool bit) {
    if (used_ % 8 == 0) bytes_.push_back(0);
    if (bit) bytes_.back() |= static_cast<uint8_t>(0x80u >> (used_ % 8));
    ++used_;
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  size_t used_ = 0;
};

std::string Base64(const std::vector<uint8_t>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Expected<std::vector<uint8_t>> FromBase64(const std::string& text) {
  if (text.size() % 4 != 0) return Status::Error("base64 length is not a multiple of 4");
  std::vector<uint8_t> out(text.size() / 4 * 3 + 1);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return Status::Error("malformed base64");
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;
  out.resize(len);
  return out;
}

}  // namespace

uint64_t PixelHash(const uint8_t* pixels, size_t bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const int ok = EVP_Digest(pixels, bytes, digest, &len, EVP_sha256(), nullptr);
  (void)ok;
  assert(ok == 1 && len == 32);
  uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = h << 8 | digest[i];
  return h;
}

std::string Sha256Hex(const uint8_t* bytes, size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const int ok = EVP_Digest(bytes, size, digest, &len, EVP_sha256(), nullptr);
  (void)ok;
  assert(ok == 1 && len == 32);
  std::string hex;
  char two[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(two, sizeof two, "%02x", digest[i]);
    hex += two;
  }
  return hex;
}

ImageFingerprint ImageFingerprint::Build(const uint8_t* pixels, size_t count, int size, int channels, size_t max_images) {
  const size_t image_bytes = static_cast<size_t>(size) * size * channels;
  std::vector<uint64_t> hashes(count);
  for (size_t i = 0; i < count; ++i) hashes[i] = PixelHash(pixels + i * image_bytes, image_bytes);
  return FromHashes(std::move(hashes), size, channels, max_images);
}

ImageFingerprint ImageFingerprint::FromHashes(std::vector<uint64_t> hashes, int size, int channels, size_t max_images) {
  ImageFingerprint f;
  f.size_ = size;
  f.channels_ = channels;
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  f.images_ = static_cast<int64_t>(hashes.size());
  // Sorted by h, so by h >> 32: the sample is a prefix. Images sharing the cut key all go.
  if (hashes.size() > max_images) {
    f.sample_below_ = hashes[max_images] >> 32;
    while (!hashes.empty() && (hashes.back() >> 32) >= f.sample_below_) hashes.pop_back();
  }
  // Two images may map to the same value: both stay (a zero delta in the code), so that the
  // number of values, which Lookup maps with, is the number Build mapped with.
  for (uint64_t h : hashes) f.values_.push_back(MapToRange(h, hashes.size(), f.bits_));
  std::sort(f.values_.begin(), f.values_.end());
  return f;
}

ImageFingerprint::Match ImageFingerprint::Lookup(const uint8_t* pixels) const {
  return LookupHash(PixelHash(pixels, static_cast<size_t>(size_) * size_ * channels_));
}

ImageFingerprint::Match ImageFingerprint::LookupHash(uint64_t h) const {
  if ((h >> 32) >= sample_below_) return Match::kNotSampled;
  const uint64_t v = MapToRange(h, values_.size(), bits_);
  return std::binary_search(values_.begin(), values_.end(), v) ? Match::kPresent : Match::kAbsent;
}

std::string ImageFingerprint::ToText() const {
  BitWriter w;
  uint64_t previous = 0;
  for (uint64_t v : values_) {
    const uint64_t delta = v - previous;
    previous = v;
    for (uint64_t q = delta >> bits_; q > 0; --q) w.Put(true);
    w.Put(false);
    for (int b = bits_ - 1; b >= 0; --b) w.Put((delta >> b) & 1);
  }
  char head[160];
  std::snprintf(head, sizeof head, "pcfp1 size=%d channels=%d images=%lld sample_below=%llu count=%zu bits=%d data=", size_, channels_,
                static_cast<long long>(images_), static_cast<unsigned long long>(sample_below_), values_.size(), bits_);
  return head + Base64(w.bytes());
}

Expected<ImageFingerprint> ImageFingerprint::Parse(const std::string& text) {
  ImageFingerprint f;
  long long images = 0;
  unsigned long long below = 0;
  size_t count = 0;
  int data_at = 0;
  if (std::sscanf(text.c_str(), "pcfp1 size=%d channels=%d images=%lld sample_below=%llu count=%zu bits=%d data=%n", &f.size_, &f.channels_, &images,
                  &below, &count, &f.bits_, &data_at) != 6 ||
      data_at == 0)
    return Status::Error("training fingerprint: expected 'pcfp1 size=S channels=C images=N sample_below=B count=K bits=R data=...'");
  if (f.size_ < 1 || f.size_ > 4096 || (f.channels_ != 1 && f.channels_ != 3) || images < 0 || below < 1 || below > (1ull << 32) || f.bits_ < 1 ||
      f.bits_ > 24 || count > static_cast<size_t>(images) || count > (size_t{1} << 24))
    return Status::Error("training fingerprint: a header value is out of range");
  f.images_ = images;
  f.sample_below_ = below;
  auto bytes = FromBase64(text.substr(static_cast<size_t>(data_at)));
  if (!bytes.ok()) return bytes.status().WithContext("training fingerprint");
  const uint64_t range = static_cast<uint64_t>(count) << f.bits_;
  size_t bit = 0;
  const size_t total_bits = bytes->size() * 8;
  auto get = [&](bool* out) {
    if (bit >= total_bits) return false;
    *out = ((*bytes)[bit / 8] >> (7 - bit % 8)) & 1;
    ++bit;
    return true;
  };
  uint64_t value = 0;
  for (size_t i = 0; i < count; ++i) {
    uint64_t q = 0;
    bool b = false;
    while (true) {
      if (!get(&b)) return Status::Error("training fingerprint: data ends early");
      if (!b) break;
      if (++q > range) return Status::Error("training fingerprint: value out of range");
    }
    uint64_t r = 0;
    for (int k = 0; k < f.bits_; ++k) {
      if (!get(&b)) return Status::Error("training fingerprint: data ends early");
      r = r << 1 | b;
    }
    const uint64_t delta = q << f.bits_ | r;
    value += delta;
    if (value >= range) return Status::Error("training fingerprint: value out of range");
    f.values_.push_back(value);
  }
  return f;
}

}  // namespace personcls
