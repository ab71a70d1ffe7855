#include "data/vww_builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/coco_instances.h"
#include "data/image_cache.h"
#include "data/synthetic_coco.h"
#include "personcls/image.h"
#include "test_util.h"

namespace personcls {
namespace {

namespace fs = std::filesystem;
using testing::ReadFileBytes;
using testing::SyntheticImage;
using testing::TempDir;
using testing::WriteSyntheticCoco;
using testing::WriteText;

std::string ReadText(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  return std::string(bytes.begin(), bytes.end());
}

struct Fixture {
  std::string dir, root;
  std::vector<SyntheticImage> images;
  std::map<int64_t, const SyntheticImage*> by_id;
};

Fixture MakeCoco() {
  Fixture f;
  f.dir = TempDir();
  f.root = f.dir + "/coco";
  f.images = WriteSyntheticCoco(f.root);
  for (const auto& im : f.images) f.by_id[im.id] = &im;
  return f;
}

VwwBuildOptions Options(const Fixture& f, const std::string& out) {
  VwwBuildOptions options;
  options.coco_root = f.root;
  options.out_dir = f.dir + "/" + out;
  options.size = 24;
  options.chunk_size = 5;
  return options;
}

// The cache of one split, checked against the synthetic truth; returns its ids in order.
std::vector<int64_t> CheckSplit(const Fixture& f, const std::string& prefix, int size) {
  auto cache = ReadImageCache(prefix);
  EXPECT_TRUE(cache.ok()) << cache.status().message();
  if (!cache.ok()) return {};
  EXPECT_EQ(cache->height, size);
  EXPECT_EQ(cache->width, size);
  EXPECT_EQ(cache->channels, 3);
  std::vector<int64_t> ids;
  for (size_t i = 0; i < cache->records.size(); ++i) {
    const ImageCacheRecord& r = cache->records[i];
    ids.push_back(r.image_id);
    const SyntheticImage& truth = *f.by_id.at(r.image_id);
    EXPECT_EQ(r.label, truth.expected_label) << "image " << r.image_id;
    EXPECT_EQ(r.file, truth.file());
    EXPECT_EQ(r.orig_width, truth.width);
    EXPECT_EQ(r.orig_height, truth.height);
    // Pixels: the documented pipeline, DCT-scaled decode, RGB, bilinear stretch.
    const auto jpeg = ReadFileBytes(f.root + "/" + truth.file());
    auto decoded = DecodeJpegAtLeast(jpeg.data(), jpeg.size(), "x", size, size);
    EXPECT_TRUE(decoded.ok());
    const Image expected = ResizeBilinear(ToRgb(*decoded), size, size);
    EXPECT_TRUE(std::equal(expected.pixels.begin(), expected.pixels.end(), cache->image(i))) << "image " << r.image_id;
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  return ids;
}

TEST(CocoInstances, LabelsFollowTheVwwDefinition) {
  const auto images = testing::SyntheticCocoImages();
  for (bool val : {false, true}) {
    auto coco = ParseCocoInstances(testing::SyntheticInstancesJson(images, val), "x.json");
    ASSERT_TRUE(coco.ok()) << coco.status().message();
    EXPECT_EQ(coco->person_category_id, testing::kPersonCategory);
    VwwLabelStats stats;
    auto labelled = LabelVww(*coco, val ? "val2014" : "train2014", 0.005, "x.json", &stats);
    ASSERT_TRUE(labelled.ok());
    size_t n = 0;
    for (const auto& im : images) {
      if (im.val != val) continue;
      ASSERT_LT(n, labelled->size());
      const VwwImage& got = (*labelled)[n++];
      EXPECT_EQ(got.id, im.id);
      EXPECT_EQ(got.file, im.file());
      EXPECT_EQ(got.label, im.expected_label) << "image " << im.id;
    }
    EXPECT_EQ(n, labelled->size());
    EXPECT_EQ(stats.crowd_person_annotations, val ? 0u : 1u);
  }
}

TEST(CocoInstances, ThresholdIsStrictAndTunable) {
  const auto images = testing::SyntheticCocoImages();
  auto coco = ParseCocoInstances(testing::SyntheticInstancesJson(images, false), "x.json");
  ASSERT_TRUE(coco.ok());
  // Image 30 has area / (w * h) = 0.005 exactly: person only below that threshold.
  auto label_of_30 = [&](double threshold) {
    const auto labelled = LabelVww(*coco, "train2014", threshold, "x.json");  // outlives the loop
    for (const auto& im : *labelled) {
      if (im.id == 30) return im.label;
    }
    return -1;
  };
  EXPECT_EQ(label_of_30(0.005), 0);
  EXPECT_EQ(label_of_30(0.00499), 1);
}

TEST(CocoInstances, BadJsonIsOneClearError) {
  auto error = [](const std::string& json) {
    auto r = ParseCocoInstances(json, "a.json");
    EXPECT_FALSE(r.ok());
    if (r.ok()) return std::string();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
    return r.status().message();
  };
  const std::string good = testing::SyntheticInstancesJson(testing::SyntheticCocoImages(), false);
  EXPECT_EQ(error(good.substr(0, good.size() / 2)).rfind("a.json: malformed JSON", 0), 0u);
  EXPECT_EQ(error("").rfind("a.json: malformed JSON", 0), 0u);
  EXPECT_EQ(error("[1, 2]").rfind("a.json: malformed JSON", 0), 0u);
  EXPECT_EQ(error("{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 5}], \"annotations\": [], \"categories\": []}"),
            "a.json: images[0]: missing 'height'");
  EXPECT_EQ(error("{\"images\": [{\"id\": 1, \"file_name\": \"../a.jpg\", \"width\": 5, \"height\": 5}]}"),
            "a.json: images[0]: unusable file_name '../a.jpg'");
  EXPECT_EQ(error("{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 0, \"height\": 5}]}"),
            "a.json: images[0]: invalid width 0");
  EXPECT_EQ(error("{\"images\": [{\"id\": \"1\", \"file_name\": \"a.jpg\", \"width\": 5, \"height\": 5}]}").rfind(
                "a.json: malformed JSON in images[0]: ", 0),
            0u);
  EXPECT_EQ(error("{\"images\": [], \"annotations\": [{\"image_id\": 1, \"category_id\": 1}], \"categories\": []}"),
            "a.json: annotations[0]: missing 'area'");
  EXPECT_EQ(error("{\"images\": [], \"annotations\": [], \"categories\": [{\"id\": 1, \"name\": \"dog\"}]}"),
            "a.json: no category named 'person'");
  EXPECT_EQ(error("{\"annotations\": [], \"categories\": []}"), "a.json: no 'images' array");
  auto missing = ReadCocoInstances(TempDir() + "/nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message().rfind(TempDir() + "/nope.json: cannot read", 0), 0u);
}

TEST(VwwBuilder, LabelsAndSplitsFromMinivalIds) {
  const Fixture f = MakeCoco();
  // Three ids from each file, one id COCO does not have, a comment and a blank line.
  WriteText(f.dir + "/minival.txt", "# minival\n25\n42\n\n49 \n100\n107\n999999\n");
  VwwBuildOptions options = Options(f, "vww");
  options.minival_ids = f.dir + "/minival.txt";
  auto report = BuildVww(options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->minival_ids_not_found, 1u);
  EXPECT_NE(report->split_source.find("minival.txt"), std::string::npos);

  const std::vector<int64_t> minival = CheckSplit(f, options.out_dir + "/minival", 24);
  EXPECT_EQ(minival, (std::vector<int64_t>{25, 42, 49, 100, 107}));
  const std::vector<int64_t> train = CheckSplit(f, options.out_dir + "/train", 24);
  EXPECT_EQ(train.size() + minival.size(), f.images.size());
  std::set<int64_t> all(train.begin(), train.end());
  all.insert(minival.begin(), minival.end());
  EXPECT_EQ(all.size(), f.images.size());  // train + val merged, nothing lost or doubled

  // Counts per split and class match the truth.
  ASSERT_EQ(report->splits.size(), 2u);
  for (const VwwSplitCounts& s : report->splits) {
    const std::vector<int64_t>& ids = s.name == "train" ? train : minival;
    size_t person = 0;
    for (int64_t id : ids) person += f.by_id.at(id)->expected_label;
    EXPECT_EQ(s.images, ids.size()) << s.name;
    EXPECT_EQ(s.per_class[1], person) << s.name;
    EXPECT_EQ(s.per_class[0], ids.size() - person) << s.name;
  }
  EXPECT_EQ(report->skipped(), 0u);

  // labels.csv points at the source JPEGs relative to its folder, as eval --data reads it.
  const std::string csv = ReadText(options.out_dir + "/minival/labels.csv");
  EXPECT_EQ(csv, "file,label\n../../coco/train2014/COCO_train2014_000000000025.jpg,0\n../../coco/val2014/COCO_val2014_000000000042.jpg,0\n"
                 "../../coco/val2014/COCO_val2014_000000000049.jpg,1\n../../coco/val2014/COCO_val2014_000000000100.jpg,1\n"
                 "../../coco/train2014/COCO_train2014_000000000107.jpg,0\n");
  EXPECT_TRUE(fs::exists(options.out_dir + "/minival/" + csv.substr(11, csv.find(',', 11) - 11)));
  EXPECT_TRUE(fs::exists(options.out_dir + "/summary.json"));
  EXPECT_FALSE(fs::exists(options.out_dir + "/chunks"));  // removed once assembled
  const std::string text = FormatVwwReport(*report);
  EXPECT_NE(text.find("minival: 5 images (not person 3, person 2)"), std::string::npos) << text;
}

TEST(VwwBuilder, SeededSplitIsReproducibleAndSized) {
  const Fixture f = MakeCoco();
  VwwBuildOptions options = Options(f, "a");
  options.seed = 11;
  auto a = BuildVww(options);
  ASSERT_TRUE(a.ok()) << a.status().message();
  // round(8059 * 24 / 123287) = 2 images, stated in the report.
  EXPECT_NE(a->split_source.find("seeded random split (seed 11): 2 of 24 images"), std::string::npos) << a->split_source;
  const auto minival_a = CheckSplit(f, options.out_dir + "/minival", 24);
  EXPECT_EQ(minival_a.size(), 2u);
  EXPECT_EQ(CheckSplit(f, options.out_dir + "/train", 24).size(), 22u);

  options.out_dir = f.dir + "/b";  // same seed: same split
  ASSERT_TRUE(BuildVww(options).ok());
  EXPECT_EQ(CheckSplit(f, options.out_dir + "/minival", 24), minival_a);
  // Other seeds give other splits (some of the 276 possible pairs).
  std::set<std::vector<int64_t>> seen{minival_a};
  for (uint64_t seed : {1, 2, 3}) {
    options.seed = seed;
    options.out_dir = f.dir + "/s" + std::to_string(seed);
    ASSERT_TRUE(BuildVww(options).ok());
    seen.insert(CheckSplit(f, options.out_dir + "/minival", 24));
  }
  EXPECT_GE(seen.size(), 3u);
}

TEST(VwwBuilder, BadImagesAreSkippedAndReportedOrFatalWhenStrict) {
  const Fixture f = MakeCoco();
  fs::remove(f.root + "/train2014/COCO_train2014_000000000009.jpg");  // missing
  auto jpeg = ReadFileBytes(f.root + "/val2014/COCO_val2014_000000000042.jpg");
  jpeg.resize(jpeg.size() / 2);  // corrupt: truncated
  testing::WriteFileBytes(f.root + "/val2014/COCO_val2014_000000000042.jpg", jpeg);
  testing::WriteFileBytes(f.root + "/train2014/COCO_train2014_000000000025.jpg", {'n', 'o', 'p', 'e'});  // not an image
  // Size mismatch: image 30 is 40x50 in the JSON; write a 50x40 JPEG instead.
  testing::WriteFileBytes(f.root + "/train2014/COCO_train2014_000000000030.jpg",
                          testing::EncodeJpeg(testing::MakePattern(50, 40, 3), {90, false, false, {}}));
  VwwBuildOptions options = Options(f, "vww");
  auto report = BuildVww(options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->problems.size(), 3u);
  EXPECT_EQ(report->problems[0].kind, "missing");
  EXPECT_EQ(report->problems[0].count, 1u);
  EXPECT_EQ(report->problems[0].examples[0].rfind("train2014/COCO_train2014_000000000009.jpg: cannot open", 0), 0u);
  EXPECT_EQ(report->problems[1].kind, "corrupt");
  EXPECT_EQ(report->problems[1].count, 2u);
  EXPECT_EQ(report->problems[1].examples[0].rfind("train2014/COCO_train2014_000000000025.jpg: unknown image format", 0), 0u);
  EXPECT_EQ(report->problems[1].examples[1], "val2014/COCO_val2014_000000000042.jpg: truncated JPEG data");
  EXPECT_EQ(report->problems[2].kind, "size mismatch");
  ASSERT_EQ(report->problems[2].count, 1u);
  EXPECT_EQ(report->problems[2].examples[0], "train2014/COCO_train2014_000000000030.jpg: 50x40 in the file, 40x50 in the JSON");
  EXPECT_EQ(report->skipped(), 4u);
  // The rest is written; the skipped images are in neither the cache nor labels.csv.
  auto train = ReadImageCache(options.out_dir + "/train");
  auto minival = ReadImageCache(options.out_dir + "/minival");
  ASSERT_TRUE(train.ok() && minival.ok());
  EXPECT_EQ(train->records.size() + minival->records.size(), f.images.size() - 4);
  for (const auto* cache : {&*train, &*minival}) {
    for (const auto& r : cache->records) EXPECT_TRUE(r.image_id != 9 && r.image_id != 25 && r.image_id != 30 && r.image_id != 42);
  }
  EXPECT_EQ(ReadText(options.out_dir + "/train/labels.csv").find("000000000009"), std::string::npos);
  const std::string text = FormatVwwReport(*report);
  EXPECT_NE(text.find("skipped 2 corrupt: train2014/COCO_train2014_000000000025.jpg"), std::string::npos) << text;

  options.strict = true;
  options.out_dir = f.dir + "/strict";
  auto strict = BuildVww(options);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(),
            f.root + ": 4 unusable images (--strict): 1 missing, first train2014/COCO_train2014_000000000009.jpg: cannot open: No "
                     "such file or directory; 2 corrupt, first train2014/COCO_train2014_000000000025.jpg: unknown image format (not "
                     "JPEG, PNG, BMP, PNM or a .bin file); 1 size mismatch, first train2014/COCO_train2014_000000000030.jpg: 50x40 in "
                     "the file, 40x50 in the JSON");
  EXPECT_FALSE(fs::exists(options.out_dir + "/train.pcache"));
}

TEST(VwwBuilder, UnusablePersonAnnotationsAreSkippedAndReportedOrFatalWhenStrict) {
  const Fixture f = MakeCoco();
  // Two person annotations that cannot label anything, first in train2014's list: a
  // negative area on image 25, and an image id no image has.
  const std::string path = f.root + "/annotations/instances_train2014.json";
  std::string json = ReadText(path);
  const std::string anchor = "\"annotations\": [";
  const size_t at = json.find(anchor);
  ASSERT_NE(at, std::string::npos);
  json.insert(at + anchor.size(), "\n{\"area\": -3.5, \"iscrowd\": 0, \"image_id\": 25, \"category_id\": 7, \"id\": 1},"
                                  "\n{\"area\": 50.0, \"iscrowd\": 0, \"image_id\": 999999, \"category_id\": 7, \"id\": 2},");
  WriteText(path, json);
  VwwBuildOptions options = Options(f, "vww");
  options.minival_ids = f.dir + "/ids.txt";
  WriteText(options.minival_ids, "25\n42\n");
  auto report = BuildVww(options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->annotation_problems.size(), 2u);
  EXPECT_EQ(report->annotation_problems[0].kind, "unknown image id");
  EXPECT_EQ(report->annotation_problems[0].count, 1u);
  EXPECT_EQ(report->annotation_problems[0].examples,
            std::vector<std::string>{"annotations/instances_train2014.json: annotations[1]: image_id 999999 names no image"});
  EXPECT_EQ(report->annotation_problems[1].kind, "negative area");
  EXPECT_EQ(report->annotation_problems[1].count, 1u);
  EXPECT_EQ(report->annotation_problems[1].examples, std::vector<std::string>{"annotations/instances_train2014.json: annotations[0]: area -3.5"});
  EXPECT_EQ(report->skipped_annotations(), 2u);
  EXPECT_EQ(report->skipped(), 0u);  // no image is lost: every label is still the truth
  CheckSplit(f, options.out_dir + "/minival", 24);
  CheckSplit(f, options.out_dir + "/train", 24);
  const std::string text = FormatVwwReport(*report);
  EXPECT_NE(text.find("skipped 1 person annotations with unknown image id: annotations/instances_train2014.json: annotations[1]: image_id "
                      "999999 names no image\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("skipped 1 person annotations with negative area: annotations/instances_train2014.json: annotations[0]: area -3.5\n"),
            std::string::npos)
      << text;
  const std::string summary = ReadText(options.out_dir + "/summary.json");
  EXPECT_NE(summary.find("\"skipped_person_annotations\""), std::string::npos) << summary;

  options.strict = true;
  options.out_dir = f.dir + "/strict";
  auto strict = BuildVww(options);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(), f.root + ": 2 unusable person annotations (--strict): 1 unknown image id, first "
                                                "annotations/instances_train2014.json: annotations[1]: image_id 999999 names no image; "
                                                "1 negative area, first annotations/instances_train2014.json: annotations[0]: area -3.5");
  EXPECT_FALSE(fs::exists(options.out_dir));  // refused before anything is decoded or written
}

TEST(VwwBuilder, BadAnnotationFilesAreOneError) {
  const Fixture f = MakeCoco();
  VwwBuildOptions options = Options(f, "vww");
  const std::string val = f.root + "/annotations/instances_val2014.json";
  WriteText(val, "{\"images\": [");
  auto r = BuildVww(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(val + ": malformed JSON", 0), 0u) << r.status().message();
  fs::remove(val);
  r = BuildVww(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), val + ": cannot open: No such file");
  EXPECT_FALSE(fs::exists(options.out_dir + "/train.pcache"));
  options.minival_ids = f.dir + "/ids.txt";
  WriteSyntheticCoco(f.root);
  WriteText(options.minival_ids, "25\nabc\n");
  r = BuildVww(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), options.minival_ids + ":2: 'abc' is not an image id");
}

TEST(VwwBuilder, InterruptedBuildResumesToTheSameResult) {
  const Fixture f = MakeCoco();
  VwwBuildOptions options = Options(f, "whole");
  options.chunk_size = 4;  // train: 22 images = 6 chunks, minival: 2 = 1 chunk
  options.threads = 1;
  auto whole = BuildVww(options);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_EQ(whole->chunks_decoded, 7u);

  options.out_dir = f.dir + "/resumed";
  options.threads = 2;  // thread count changes nothing
  options.stop_after_chunks = 3;
  auto first = BuildVww(options);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().message(), options.out_dir + ": interrupted after 3 chunks (run again to continue)");
  EXPECT_FALSE(fs::exists(options.out_dir + "/train.pcache"));
  // A killed writer leaves a temporary file behind; it must not be taken for a chunk.
  WriteText(options.out_dir + "/chunks/train-00003.chunk.tmp999", "partial");
  WriteText(options.out_dir + "/train.pcache.tmp998", "partial");  // and is removed on the rerun
  WriteText(options.out_dir + "/notes.tmp1", "a user's file");      // not ours: kept
  // Damaged chunks (torn by a non-atomic copy, say) are decoded again: one cut to its
  // header, one cut inside its pixels.
  WriteText(options.out_dir + "/chunks/train-00002.chunk", "garbage");
  auto chunk = ReadFileBytes(options.out_dir + "/chunks/train-00001.chunk");
  chunk.resize(chunk.size() - 100);
  testing::WriteFileBytes(options.out_dir + "/chunks/train-00001.chunk", chunk);
  options.stop_after_chunks = 0;
  auto second = BuildVww(options);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->chunks_reused, 1u);
  EXPECT_EQ(second->chunks_decoded, 6u);
  for (const char* file : {"train.pcache", "train.index.csv", "minival.pcache", "minival.index.csv", "train/labels.csv",
                           "minival/labels.csv"}) {
    EXPECT_TRUE(ReadFileBytes(f.dir + "/whole/" + file) == ReadFileBytes(options.out_dir + "/" + file)) << file;
  }
  EXPECT_FALSE(fs::exists(options.out_dir + "/train.pcache.tmp998"));
  EXPECT_TRUE(fs::exists(options.out_dir + "/notes.tmp1"));
}

}  // namespace
}  // namespace personcls
