// Exported artifacts read back: float32 and int8 TFLite files give the in-memory models'
// outputs, carry personcls metadata, and the C export compiles and holds the same bytes.
#include "personcls/export.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "personcls/model.h"
#include "personcls/quantize.h"
#include "quant/quant_test_util.h"

namespace personcls {
namespace {

constexpr int kSize = 48;

std::string Meta(const Graph& g, const std::string& key) {
  auto it = g.metadata.find(key);
  return it == g.metadata.end() ? "<absent>" : std::string(it->second.begin(), it->second.end());
}

// Writes `graph` (stamped) to PATH and loads it back from the file.
std::shared_ptr<const Graph> ExportAndReload(Graph graph, const std::string& path) {
  EXPECT_TRUE(StampExportMetadata(graph, {}).ok());
  auto bytes = SerializeTflite(graph);
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_TRUE(WriteModelFile(path, *bytes).ok());
  auto back = LoadModelFile(path);
  EXPECT_TRUE(back.ok()) << back.status().message();
  return back.ok() ? *back : nullptr;
}

Graph Int8Twin(const std::vector<uint8_t>& pixels, size_t count) {
  auto source = CalibrationFromPixels(pixels.data(), count, kSize, 3);
  auto q = QuantizeGraph(*testing::TwinDeployGraph(kSize), *source);
  EXPECT_TRUE(q.ok()) << q.status().message();
  return std::move(q).value();
}

TEST(ExportTflite, FloatRoundTripMatchesDeployModel) {
  auto deploy = testing::TwinDeployGraph(kSize);
  auto file = ExportAndReload(*deploy, testing::TempDir() + "/m.tflite");
  ASSERT_TRUE(file);
  EXPECT_EQ(Meta(*file, "labels"), "Not a person,Person");
  EXPECT_EQ(Meta(*file, "normalization"), "mean=0,scale=0.00392156886");
  EXPECT_EQ(Meta(*file, "producer"), ProducerName());
  EXPECT_EQ(file->description.rfind("personcls ", 0), 0u);
  Graph again = *file;  // re-exporting a personcls file keeps its description
  ExportMetadata elsewhere;
  elsewhere.source = "elsewhere.tflite";
  ASSERT_TRUE(StampExportMetadata(again, elsewhere).ok());
  EXPECT_EQ(again.description, file->description);
  const std::vector<uint8_t> px = testing::RandomImages(4, kSize, testing::TestSeed());
  const size_t n = static_cast<size_t>(kSize) * kSize * 3;
  for (size_t i = 0; i < 4; ++i) {
    std::vector<uint8_t> in(n * 4);
    for (size_t j = 0; j < n; ++j) {
      const float x = px[i * n + j] / 255.0f;
      std::memcpy(&in[j * 4], &x, 4);
    }
    const auto a = testing::RunBytes(deploy, in, KernelSet::kReference);
    const auto b = testing::RunBytes(file, in, KernelSet::kReference);
    ASSERT_EQ(a.size(), 8u);
    for (int c = 0; c < 2; ++c) {
      float fa, fb;
      std::memcpy(&fa, &a[c * 4], 4);
      std::memcpy(&fb, &b[c * 4], 4);
      EXPECT_NEAR(fa, fb, 1e-5f);
    }
  }
}

TEST(ExportTflite, Int8FileIsByteIdenticalToInMemoryGraph) {
  const std::vector<uint8_t> px = testing::RandomImages(12, kSize, testing::TestSeed());
  Graph int8 = Int8Twin(px, 8);
  auto memory = std::make_shared<const Graph>(int8);
  auto file = ExportAndReload(int8, testing::TempDir() + "/m_int8.tflite");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->tensors[file->inputs[0]].dtype, DType::kInt8);
  const size_t n = static_cast<size_t>(kSize) * kSize * 3;
  for (size_t i = 0; i < 12; ++i) {  // 4 images outside the calibration set
    std::vector<uint8_t> in(n);
    for (size_t j = 0; j < n; ++j) in[j] = static_cast<uint8_t>(px[i * n + j] - 128);
    for (KernelSet k : {KernelSet::kReference, KernelSet::kFast}) ASSERT_EQ(testing::RunBytes(memory, in, k), testing::RunBytes(file, in, k));
  }
}

TEST(ExportTflite, LabelsMustMatchOutputs) {
  Graph g = *testing::TwinDeployGraph(kSize);
  ExportMetadata m;
  m.labels = {"a", "b", "c"};
  Status st = StampExportMetadata(g, m);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "3 labels given but the model has 2 outputs");
  m.labels = {"x,y", "z"};
  EXPECT_FALSE(StampExportMetadata(g, m).ok());
}

TEST(ExportTflite, FailedWriteLeavesNothing) {
  const std::string dir = testing::TempDir();
  Status st = WriteModelFile(dir + "/missing/m.tflite", {1, 2, 3});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind(dir + "/missing/m.tflite: cannot create", 0), 0u) << st.message();
  // An existing file survives a failed C export untouched.
  testing::WriteFileBytes(dir + "/model.h", {'o', 'l', 'd'});
  auto bad = WriteCSource(dir + "/model.h", {1, 2, 3}, *testing::TwinDeployGraph(kSize), "9bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(testing::ReadFileBytes(dir + "/model.h"), (std::vector<uint8_t>{'o', 'l', 'd'}));
  EXPECT_FALSE(std::filesystem::exists(dir + "/model.c"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
}

// The generated source compiles as C++ and as C11 (-pedantic, warnings as errors), the op
// registration macro calls TFLite Micro's resolver methods once per op type, the arena figure
// is the reference kernels' plan, and the embedded bytes (16-byte aligned) are the model:
// they run in the interpreter.
TEST(ExportCSource, CompilesAndEmbedsTheModel) {
  const std::string dir = testing::TempDir();
  const std::vector<uint8_t> px = testing::RandomImages(4, kSize, testing::TestSeed());
  Graph int8 = Int8Twin(px, 4);
  ExportMetadata meta;
  meta.labels = {"no \"person\"", "person\\"};
  ASSERT_TRUE(StampExportMetadata(int8, meta).ok());
  auto bytes = SerializeTflite(int8);
  ASSERT_TRUE(bytes.ok());
  auto files = WriteCSource(dir + "/person_model", *bytes, int8);
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ(*files, (std::vector<std::string>{dir + "/person_model.h", dir + "/person_model.c"}));

  std::ofstream(dir + "/main.cc") << R"(#include <cstdint>
#include <cstdio>
#include "person_model.h"
// TFLite Micro's MicroMutableOpResolver methods, counting calls.
struct Resolver {
  int calls = 0;
  int AddAdd() { return ++calls; }
  int AddAveragePool2D() { return ++calls; }
  int AddConv2D() { return ++calls; }
  int AddDepthwiseConv2D() { return ++calls; }
  int AddDequantize() { return ++calls; }
  int AddFullyConnected() { return ++calls; }
  int AddLogistic() { return ++calls; }
  int AddMaxPool2D() { return ++calls; }
  int AddMean() { return ++calls; }
  int AddPad() { return ++calls; }
  int AddQuantize() { return ++calls; }
  int AddReshape() { return ++calls; }
  int AddSoftmax() { return ++calls; }
};
// Macros expand safely inside expressions (negative values are parenthesized).
static_assert(1-PERSON_MODEL_INPUT_ZERO_POINT == 129, "zero point macro");
int main(int, char** argv) {
  Resolver resolver;
  PERSON_MODEL_REGISTER_OPS(resolver);
  std::fprintf(stderr, "%d %d %u\n", resolver.calls, PERSON_MODEL_OP_COUNT, PERSON_MODEL_ARENA_BYTES);
  if (resolver.calls != PERSON_MODEL_OP_COUNT) return 3;
  std::FILE* f = std::fopen(argv[1], "wb");
  std::fwrite(person_model_tflite, 1, person_model_tflite_len, f);
  std::fclose(f);
  std::printf("%d %d %d %d %d %d %g %d %d %s|%s|%s\n", PERSON_MODEL_INPUT_HEIGHT, PERSON_MODEL_INPUT_WIDTH,
              PERSON_MODEL_INPUT_CHANNELS, PERSON_MODEL_INPUT_IS_INT8, PERSON_MODEL_INPUT_ZERO_POINT,
              PERSON_MODEL_NUM_CLASSES, PERSON_MODEL_OUTPUT_SCALE * 256.0f,
              static_cast<int>(reinterpret_cast<std::uintptr_t>(person_model_tflite) % 16),
              PERSON_MODEL_TFLITE_LEN == person_model_tflite_len, person_model_labels[0], person_model_labels[1], person_model_producer);
  return 0;
}
)";
  std::ofstream(dir + "/c_main.c") << "#include <stdint.h>\n#include <stdio.h>\n#include \"person_model.h\"\n"
                                      "int main(void) { printf(\"%u %d %u\\n\", person_model_tflite_len, "
                                      "(int)((uintptr_t)person_model_tflite % 16), PERSON_MODEL_ARENA_BYTES); return 0; }\n";
  const std::string cxx = PERSONCLS_CXX_COMPILER;
  const std::string build = cxx + " -std=c++17 -Wall -Wextra -pedantic -Werror -O0 -o " + dir + "/prog " + dir + "/main.cc -x c++ " + dir + "/person_model.c";
  ASSERT_EQ(std::system(build.c_str()), 0) << build;
  // Compiled as C one file at a time (the C++ driver would pass -std=c11 to its link step).
  const std::string c_flags = cxx + " -x c -std=c11 -Wall -Wextra -pedantic -Werror -O0 -c ";
  const std::string c_build = c_flags + dir + "/c_main.c -o " + dir + "/c_main.o && " + c_flags + dir + "/person_model.c -o " + dir +
                              "/person_model.o && " + cxx + " -o " + dir + "/cprog " + dir + "/c_main.o " + dir + "/person_model.o";
  ASSERT_EQ(std::system(c_build.c_str()), 0) << c_build;
  ASSERT_EQ(std::system((dir + "/cprog > " + dir + "/c_out.txt").c_str()), 0);
  auto reference = Interpreter::Create(std::make_shared<const Graph>(int8), {.num_threads = 1, .kernels = KernelSet::kReference});
  ASSERT_TRUE(reference.ok());
  const std::vector<uint8_t> c_out = testing::ReadFileBytes(dir + "/c_out.txt");
  EXPECT_EQ(std::string(c_out.begin(), c_out.end()), std::to_string(bytes->size()) + " 0 " + std::to_string((*reference)->arena_bytes()) + "\n");
  const std::string run = dir + "/prog " + dir + "/dump.tflite > " + dir + "/out.txt";
  ASSERT_EQ(std::system(run.c_str()), 0);
  const std::vector<uint8_t> out = testing::ReadFileBytes(dir + "/out.txt");
  EXPECT_EQ(std::string(out.begin(), out.end()), "48 48 3 1 -128 2 1 0 1 no \"person\"|person\\|" + ProducerName() + "\n");

  const std::vector<uint8_t> dumped = testing::ReadFileBytes(dir + "/dump.tflite");
  ASSERT_EQ(dumped, *bytes);
  auto embedded = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(dumped), "embedded");
  ASSERT_TRUE(embedded.ok()) << embedded.status().message();
  std::vector<uint8_t> in(static_cast<size_t>(kSize) * kSize * 3);
  for (size_t j = 0; j < in.size(); ++j) in[j] = static_cast<uint8_t>(px[j] - 128);
  EXPECT_EQ(testing::RunBytes(*embedded, in, KernelSet::kReference),
            testing::RunBytes(std::make_shared<const Graph>(int8), in, KernelSet::kReference));
}

}  // namespace
}  // namespace personcls
