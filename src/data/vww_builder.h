// `personcls vww build`: the Visual Wake Words dataset built from a COCO 2014 download.
//
// Input (COCO_ROOT): annotations/instances_train2014.json, annotations/instances_val2014.json,
// train2014/*.jpg, val2014/*.jpg.
// Labels: coco_instances.h (LabelVww). Splits: train2014 and val2014 are merged and sorted
// by image id; "minival" holds the ids listed in the minival-ids file (one id per line,
// blank lines and '#' comments ignored; ids absent from COCO are counted and ignored),
// or, without the file, a seeded random choice of round(8059 * N / 123287) images (8,059
// for the full COCO 2014). "train" holds the rest.
//
// Output (VWW_DIR), every file written atomically:
//   train.pcache, train.index.csv, minival.pcache, minival.index.csv
//                      the image cache (data/image_cache.h): each image decoded with DCT
//                      scaling (DecodeJpegAtLeast), converted to RGB and stretch-resized
//                      (ResizeBilinear) to size x size; `file` is relative to COCO_ROOT
//   train/labels.csv, minival/labels.csv
//                      "file,label" with the source JPEG's path relative to that folder
//                      (e.g. ../../coco/val2014/COCO_val2014_000000000042.jpg), so
//                      `personcls eval --data VWW_DIR/minival` evaluates on the JPEGs
//   summary.json       options, split source, counts per split and class, problems
// Resumable: images are decoded in chunks of chunk_size per split, each saved as
// VWW_DIR/chunks/<split>-<n>.chunk (atomically, with a fingerprint of its file list and
// size). A rerun keeps every finished chunk whose fingerprint matches and decodes only the
// rest; the outputs are assembled once all chunks exist, then the chunks are removed.
// Temporaries a killed build left ("NAME.tmp<pid>") are removed at the start, so run one
// build per VWW_DIR at a time.
//
// Bad images (missing file, corrupt JPEG, size different from the JSON) are skipped and
// reported by kind with counts and the first file names; with `strict` any of them is an
// error (no output is written; finished chunks are kept for the rerun). Person annotations
// that cannot label an image (an image_id no image has, a negative area) are skipped and
// reported the same way; with `strict` they are an error before anything is decoded.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "personcls/status.h"

namespace personcls {

struct VwwBuildOptions {
  std::string coco_root;
  std::string out_dir;
  std::string minival_ids;  // file of image ids; empty: seeded split
  int size = 96;            // output H = W
  double threshold = 0.005;
  int threads = 2;
  bool strict = false;
  uint64_t seed = 0;
  int chunk_size = 1024;
  // Test hook: stop with an "interrupted" error after this many newly decoded chunks
  // (0 = no limit), as a killed build would.
  int stop_after_chunks = 0;
  // Progress lines ("train: chunk 3/81 ..."); nothing is printed when empty.
  std::function<void(const std::string&)> log;
};

// Images that could not be used, by kind.
struct VwwProblems {
  std::string kind;  // images: "missing", "corrupt", "size mismatch"; person annotations: "unknown image id", "negative area"
  size_t count = 0;
  std::vector<std::string> examples;  // first few "file: reason"
};

struct VwwSplitCounts {
  std::string name;  // "train", "minival"
  size_t images = 0;
  size_t per_class[2] = {0, 0};  // [not person, person], images written
};

struct VwwReport {
  std::string split_source;  // how minival was chosen, in words
  std::vector<VwwSplitCounts> splits;
  std::vector<VwwProblems> problems;  // the three kinds of images, in the order above
  // Skipped person annotations: "unknown image id", "negative area"; examples
  // "annotations/instances_train2014.json: annotations[5]: area -3".
  std::vector<VwwProblems> annotation_problems;
  size_t chunks_reused = 0, chunks_decoded = 0;
  size_t minival_ids_not_found = 0;
  size_t orphan_annotations = 0;  // = annotation_problems' "unknown image id" count
  size_t skipped() const;              // images
  size_t skipped_annotations() const;  // person annotations
};

Expected<VwwReport> BuildVww(const VwwBuildOptions& options);

// Human-readable summary (several lines): split source, counts per split and class,
// problems with their first file names.
std::string FormatVwwReport(const VwwReport& report);

}  // namespace personcls
