// CLI: personcls vww build on a synthetic COCO tree (tests/data/synthetic_coco.h).
#include <algorithm>
#include <filesystem>
#include <string>

#include "data/image_cache.h"
#include "data/synthetic_coco.h"
#include "test_util.h"
#include "tools/cli_run.h"

namespace personcls {
namespace {

namespace fs = std::filesystem;
using testing::RunCli;
using testing::RunResult;

TEST(VwwCli, BuildWritesCacheListingsAndCounts) {
  const std::string dir = testing::TempDir();
  const auto images = testing::WriteSyntheticCoco(dir + "/coco");
  testing::WriteText(dir + "/minival.txt", "25\n42\n49\n100\n107\n");
  const RunResult r = RunCli("vww build --coco " + dir + "/coco --out " + dir + "/vww --minival-ids " + dir +
                             "/minival.txt --size 32 --threads 2 --chunk-size 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("train: 19 images (not person 10, person 9)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("minival: 5 images (not person 3, person 2)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("train: chunk 5/5 decoded"), std::string::npos) << r.err;  // progress on stderr
  auto minival = ReadImageCache(dir + "/vww/minival");
  ASSERT_TRUE(minival.ok()) << minival.status().message();
  EXPECT_EQ(minival->height, 32);
  EXPECT_EQ(minival->records.size(), 5u);
  EXPECT_TRUE(fs::exists(dir + "/vww/train/labels.csv"));
  EXPECT_TRUE(fs::exists(dir + "/vww/summary.json"));
}

TEST(VwwCli, BadInputIsOneErrorLine) {
  const std::string dir = testing::TempDir();
  RunResult r = RunCli("vww build --coco " + dir + "/nothing --out " + dir + "/vww");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "personcls: error: " + dir + "/nothing/annotations/instances_train2014.json: cannot open: No such file\n");

  testing::WriteSyntheticCoco(dir + "/coco");
  testing::WriteText(dir + "/coco/annotations/instances_train2014.json", "{\"images\": [{\"id\": 1,");
  r = RunCli("vww build --coco " + dir + "/coco --out " + dir + "/vww");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("personcls: error: " + dir + "/coco/annotations/instances_train2014.json: malformed JSON", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // A corrupt JPEG is skipped and reported; --strict makes it fatal.
  testing::WriteSyntheticCoco(dir + "/coco");
  testing::WriteText(dir + "/coco/val2014/COCO_val2014_000000000042.jpg", "not a jpeg");
  r = RunCli("vww build --coco " + dir + "/coco --out " + dir + "/vww --size 16");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("skipped 1 corrupt: val2014/COCO_val2014_000000000042.jpg: unknown image format"), std::string::npos) << r.out;
  r = RunCli("vww build --coco " + dir + "/coco --out " + dir + "/strict --size 16 --strict");
  EXPECT_EQ(r.exit_code, 1);
  const std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
  EXPECT_EQ(last.rfind("personcls: error: " + dir + "/coco: 1 unusable images (--strict): 1 corrupt, first "
                       "val2014/COCO_val2014_000000000042.jpg", 0),
            0u)
      << r.err;
  EXPECT_FALSE(fs::exists(dir + "/strict/train.pcache"));
}

}  // namespace
}  // namespace personcls
