// The MobileNetV2-Rep architecture: SSCMA's channel arithmetic and the published
// deploy-form figures, and the deploy graph running in our interpreter.
#include <cmath>

#include "personcls/arch.h"
#include "personcls/interpreter.h"
#include "test_util.h"

namespace personcls {
namespace {

TEST(Arch, MakeDivisibleFollowsSscma) {
  EXPECT_EQ(MakeDivisible(32 * 0.35), 16);  // 11.2 -> 8 < 0.9*11.2 -> 16
  EXPECT_EQ(MakeDivisible(16 * 0.35), 8);
  EXPECT_EQ(MakeDivisible(64 * 0.35), 24);
  EXPECT_EQ(MakeDivisible(32 * 0.5), 16);
  EXPECT_EQ(MakeDivisible(24 * 1.0), 24);
  EXPECT_EQ(MakeDivisible(3.0), 8);
}

struct Preset {
  const char* name;
  int64_t params;
  double macs_millions;  // as published, rounded to 0.01 M
  int blocks;
  int features;
};

class ArchPreset : public ::testing::TestWithParam<Preset> {};

TEST_P(ArchPreset, DeployFiguresMatchSscma) {
  const Preset& p = GetParam();
  auto config = ArchFromName(p.name);
  ASSERT_TRUE(config.ok());
  auto spec = DescribeArch(*config);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(static_cast<int>(spec->blocks.size()), p.blocks);
  EXPECT_EQ(spec->feature_channels, p.features);
  EXPECT_EQ(DeployParamCount(*spec, 2), p.params);

  auto graph = BuildDeployGraph(*config, ZeroDeployWeights(*spec, 2));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ(graph->ParameterCount(), p.params);
  auto it = Interpreter::Create(std::make_shared<Graph>(std::move(graph).value()), {.kernels = KernelSet::kReference});
  ASSERT_TRUE(it.ok()) << it.status().message();
  EXPECT_DOUBLE_EQ(std::round((*it)->total_macs() / 1e4) / 100.0, p.macs_millions) << (*it)->total_macs();
  (*it)->Invoke();  // zero weights: uniform softmax
  const float* out = static_cast<const float*>((*it)->output_data(0));
  EXPECT_FLOAT_EQ(out[0], 0.5f);
  EXPECT_FLOAT_EQ(out[1], 0.5f);
}

// 663,234 / 76.31 M, 173,810 / 22.89 M, 30,610 / 12.28 M (issue 3, recomputed from SSCMA).
INSTANTIATE_TEST_SUITE_P(Presets, ArchPreset,
                         ::testing::Values(Preset{"mbv2-rep-1.0", 663234, 76.31, 10, 128},
                                           Preset{"mbv2-rep-0.5", 173810, 22.89, 10, 64},
                                           Preset{"mbv2-rep-0.35", 30610, 12.28, 6, 32}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Arch, TrainFormCountsEveryBranch) {
  auto spec = DescribeArch(*ArchFromName("mbv2-rep-0.35"));
  ASSERT_TRUE(spec.ok());
  // Stem 3*3*3*16 + BN 32; layer1.0 (16->16): 9*16*16 + 16 + 4*16 + 12*16 + 6*(256 + 16 + 32) ...
  int64_t expected = 432 + 32;
  for (const ConvSpec& b : spec->blocks) {
    const int64_t c = b.out_c;
    expected += 9 * b.in_c * c + c + 2 * c + 2 * c + 6 * 2 * c + 6 * (c * c + c) + 6 * 2 * c;
  }
  expected += 32 * 2 + 2;
  EXPECT_EQ(TrainParamCount(*spec, 2), expected);
  EXPECT_GT(TrainParamCount(*spec, 2), DeployParamCount(*spec, 2));
}

TEST(Arch, GrayAndOtherSizes) {
  ArchConfig c = *ArchFromName("mbv2-rep-0.35");
  c.gray = true;
  c.input_size = 64;
  c.num_classes = 10;
  auto spec = DescribeArch(c);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->stem.in_c, 1);
  EXPECT_EQ(spec->blocks.back().out_hw, 8);
  auto graph = BuildDeployGraph(c, ZeroDeployWeights(*spec, 10));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_TRUE(Interpreter::Create(std::make_shared<Graph>(std::move(graph).value())).ok());
  EXPECT_FALSE(ArchFromName("mbv2-rep-2.0").ok());
  c.input_size = 3;
  EXPECT_FALSE(DescribeArch(c).ok());
}

}  // namespace
}  // namespace personcls
