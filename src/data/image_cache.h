// The pre-resized image cache that `personcls vww build` writes and the loader reads, so
// that training epochs need no JPEG decoding.
//
// One split = two files, written atomically (temp file + rename):
//   SPLIT.pcache       64-byte header, then count records of height*width*channels uint8
//                      pixels (HWC, RGB or gray), record i at offset 64 + i*record_bytes.
//                      Header (little-endian): char magic[8] = "PCLSCAC1"; u32 version = 1;
//                      u32 count; u32 height; u32 width; u32 channels; 36 bytes zero.
//   SPLIT.index.csv    header "image_id,file,label,orig_width,orig_height", then one line
//                      per record, in record order. `file` is the source image path
//                      relative to the COCO root (e.g. "train2014/COCO_train2014_...jpg").
// Readers check the header against the file size and the index line count and fail with
// one line naming the file ("train.pcache: 12 records in header, 11 in index").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "personcls/status.h"

namespace personcls {

struct ImageCacheRecord {
  int64_t image_id = 0;
  std::string file;
  int32_t label = 0;
  int32_t orig_width = 0, orig_height = 0;
};

struct ImageCache {
  int height = 0, width = 0, channels = 0;
  std::vector<ImageCacheRecord> records;
  std::vector<uint8_t> pixels;  // records.size() * record_bytes()

  size_t record_bytes() const { return static_cast<size_t>(height) * width * channels; }
  const uint8_t* image(size_t i) const { return pixels.data() + i * record_bytes(); }
};

// `path_prefix` is "DIR/SPLIT" (the files are path_prefix + ".pcache" / ".index.csv").
// File names must be non-empty and free of ',', '"', CR and LF (the index is plain CSV).
Status WriteImageCache(const std::string& path_prefix, const ImageCache& cache);
Expected<ImageCache> ReadImageCache(const std::string& path_prefix);

// Streams a cache to disk one record at a time, for splits too large to hold in memory
// (VWW train at 96x96 is 3.2 GB). Both files are written under temporary names and
// appear only on Commit(); destroying the writer before that leaves nothing behind (and
// any previous cache untouched). WriteImageCache is Open + Append per record + Commit.
class ImageCacheWriter {
 public:
  Status Open(const std::string& path_prefix, int height, int width, int channels);
  // `pixels` holds record_bytes() bytes (HWC).
  Status Append(const ImageCacheRecord& record, const uint8_t* pixels);
  Status Commit();

  size_t count() const { return count_; }
  size_t record_bytes() const { return static_cast<size_t>(height_) * width_ * channels_; }

 private:
  AtomicFile data_, index_;
  std::string prefix_;
  int height_ = 0, width_ = 0, channels_ = 0;
  size_t count_ = 0;
};

}  // namespace personcls
