// End-to-end check against TensorFlow Lite Micro reference-kernel outputs stored in
// ../shared/golden: every int8 output byte-identical, every float32 output within 1e-5.
// Runs both kernel sets (reference and fast).
#include <cmath>

#include "golden_io.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "test_util.h"

namespace personcls {
namespace {

using ::personcls::testing::FillInput;
using ::personcls::testing::GoldenRow;
using ::personcls::testing::InputKind;
using ::personcls::testing::ReadFileBytes;
using ::personcls::testing::ReadGolden;
using ::personcls::testing::SharedPath;

struct GoldenCase {
  const char* model;
  const char* golden;
  const char* input_dir;
  InputKind kind;
  KernelSet kernels;
};

std::string CaseName(const ::testing::TestParamInfo<GoldenCase>& info) {
  std::string name = std::string(info.param.model) + (info.param.kernels == KernelSet::kFast ? "_fast" : "_ref");
  for (char& c : name)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesTfliteReferenceKernels) {
  const GoldenCase& c = GetParam();
  const std::string model_rel = std::string("models/") + c.model;
  PCLS_REQUIRE_SHARED(model_rel);
  PCLS_REQUIRE_SHARED(std::string("golden/") + c.golden);
  auto graph = LoadModelFile(SharedPath(model_rel));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  auto interp = Interpreter::Create(*graph, {.num_threads = 1, .kernels = c.kernels});
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  Interpreter& it = **interp;
  const TensorDesc& out = it.output_desc(0);
  const std::vector<GoldenRow> rows = ReadGolden(SharedPath(std::string("golden/") + c.golden));
  ASSERT_FALSE(rows.empty());
  int mismatches = 0;
  for (const GoldenRow& row : rows) {
    const std::vector<uint8_t> bytes = ReadFileBytes(SharedPath(std::string(c.input_dir) + "/" + row.file));
    FillInput(c.kind, bytes, it.input_data(0));
    it.Invoke();
    ASSERT_EQ(static_cast<int64_t>(row.values.size()), out.num_elements()) << row.file;
    for (size_t i = 0; i < row.values.size(); ++i) {
      if (out.dtype == DType::kInt8) {
        const int got = static_cast<const int8_t*>(it.output_data(0))[i];
        if (got != static_cast<int>(row.values[i]) && ++mismatches <= 5)
          ADD_FAILURE() << row.file << "[" << i << "]: got " << got << ", TFLite " << row.values[i];
      } else {
        const float got = static_cast<const float*>(it.output_data(0))[i];
        if (!(std::fabs(got - row.values[i]) <= 1e-5) && ++mismatches <= 5)
          ADD_FAILURE() << row.file << "[" << i << "]: got " << got << ", TFLite " << row.values[i];
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << rows.size() << " inputs";
}

const GoldenCase kCases[] = {
    {"mlperf_vww_96_int8.tflite", "mlperf_vww_96_int8.dev.csv", "data/vww01-dev", InputKind::kRgbInt8, KernelSet::kReference},
    {"mlperf_vww_96_float.tflite", "mlperf_vww_96_float.dev.csv", "data/vww01-dev", InputKind::kRgbFloat, KernelSet::kReference},
    {"tinymaix_vww96_q.tflite", "tinymaix_vww96_q.dev.csv", "data/vww01-dev", InputKind::kRgbInt8, KernelSet::kReference},
    {"tinymaix_vww96_f.tflite", "tinymaix_vww96_f.dev.csv", "data/vww01-dev", InputKind::kRgbFloat, KernelSet::kReference},
    {"tflm_person_detect.tflite", "tflm_person_detect.dev.csv", "data/vww01-dev", InputKind::kGrayInt8, KernelSet::kReference},
    {"sscma_mbv2_0.35_rep_cifar10_int8.tflite", "sscma_mbv2_0.35_rep_cifar10_int8.rand.csv", "golden/inputs", InputKind::kRawInt8,
     KernelSet::kReference},
    {"mlperf_vww_96_int8.tflite", "mlperf_vww_96_int8.dev.csv", "data/vww01-dev", InputKind::kRgbInt8, KernelSet::kFast},
    {"mlperf_vww_96_float.tflite", "mlperf_vww_96_float.dev.csv", "data/vww01-dev", InputKind::kRgbFloat, KernelSet::kFast},
    {"tinymaix_vww96_q.tflite", "tinymaix_vww96_q.dev.csv", "data/vww01-dev", InputKind::kRgbInt8, KernelSet::kFast},
    {"tinymaix_vww96_f.tflite", "tinymaix_vww96_f.dev.csv", "data/vww01-dev", InputKind::kRgbFloat, KernelSet::kFast},
    {"tflm_person_detect.tflite", "tflm_person_detect.dev.csv", "data/vww01-dev", InputKind::kGrayInt8, KernelSet::kFast},
    {"sscma_mbv2_0.35_rep_cifar10_int8.tflite", "sscma_mbv2_0.35_rep_cifar10_int8.rand.csv", "golden/inputs", InputKind::kRawInt8,
     KernelSet::kFast},
};

INSTANTIATE_TEST_SUITE_P(SharedModels, GoldenTest, ::testing::ValuesIn(kCases), CaseName);

}  // namespace
}  // namespace personcls
