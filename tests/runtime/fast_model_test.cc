// Whole models with the fast kernels: every convolution of the shared models gets an AVX2
// kernel (the golden test alone would pass with reference fallbacks too), and outputs do
// not depend on the thread count.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "runtime/fast_kernels.h"
#include "runtime/host/thread_pool.h"
#include "test_util.h"

namespace personcls {
namespace {

using ::personcls::testing::SharedPath;

const char* const kModels[] = {
    "mlperf_vww_96_int8.tflite", "mlperf_vww_96_float.tflite", "tinymaix_vww96_q.tflite",
    "tinymaix_vww96_f.tflite",   "tflm_person_detect.tflite",  "sscma_mbv2_0.35_rep_cifar10_int8.tflite",
};

class FastModelTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!CpuHasAvx2Fma()) GTEST_SKIP() << "CPU without AVX2/FMA: no fast kernels";
    // One-row tasks on every thread given, whatever the machine load: the two-thread run
    // really splits every layer.
    host::SetFineSplittingForTesting(true);
  }
  void TearDown() override { host::SetFineSplittingForTesting(false); }
};

std::string ModelName(const ::testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

TEST_P(FastModelTest, EveryConvolutionHasAnAvx2Kernel) {
  const std::string rel = std::string("models/") + GetParam();
  PCLS_REQUIRE_SHARED(rel);
  auto graph = LoadModelFile(SharedPath(rel));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  auto interp = Interpreter::Create(*graph, {.num_threads = 1, .kernels = KernelSet::kFast});
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  for (const OpInfo& info : (*interp)->op_infos()) {
    if (info.type != OpType::kConv2D && info.type != OpType::kDepthwiseConv2D) continue;
    EXPECT_NE(info.kernel.find("_avx2"), std::string::npos) << OpTypeName(info.type) << " runs " << info.kernel;
  }
}

TEST_P(FastModelTest, OneAndTwoThreadsGiveIdenticalOutputs) {
  const std::string rel = std::string("models/") + GetParam();
  PCLS_REQUIRE_SHARED(rel);
  PCLS_SEED_TRACE(::personcls::testing::TestSeed());
  auto graph = LoadModelFile(SharedPath(rel));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  auto one = Interpreter::Create(*graph, {.num_threads = 1, .kernels = KernelSet::kFast});
  auto two = Interpreter::Create(*graph, {.num_threads = 2, .kernels = KernelSet::kFast});
  ASSERT_TRUE(one.ok() && two.ok());
  std::mt19937 rng(::personcls::testing::TestSeed());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < (*one)->num_inputs(); ++i) {
      const TensorDesc& d = (*one)->input_desc(i);
      std::vector<uint8_t> bytes(d.num_bytes());
      if (d.dtype == DType::kFloat32) {
        std::uniform_real_distribution<float> u(0.0f, 1.0f);
        for (size_t k = 0; k + 4 <= bytes.size(); k += 4) {
          const float f = u(rng);
          std::memcpy(&bytes[k], &f, 4);
        }
      } else {
        for (auto& b : bytes) b = static_cast<uint8_t>(rng());
      }
      std::memcpy((*one)->input_data(i), bytes.data(), bytes.size());
      std::memcpy((*two)->input_data(i), bytes.data(), bytes.size());
    }
    (*one)->Invoke();
    (*two)->Invoke();
    for (int o = 0; o < (*one)->num_outputs(); ++o) {
      const size_t n = (*one)->output_desc(o).num_bytes();
      EXPECT_EQ(0, std::memcmp((*one)->output_data(o), (*two)->output_data(o), n)) << "output " << o << " round " << round;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, FastModelTest, ::testing::ValuesIn(kModels), ModelName);

}  // namespace
}  // namespace personcls
