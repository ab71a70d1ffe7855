// The TFLite reader on valid, corrupt and crafted files: every bad file must give an error
// that names the file and the problem; none may crash (the fuzz target checks more).
#include <random>

#include "formats/tflite/schema_generated.h"
#include "formats/tflite/tflite_reader.h"
#include "formats/tflite/tflite_writer.h"
#include "graph_builder.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::GraphBuilder;
using testing::TinyInt8Graph;

std::shared_ptr<const std::vector<uint8_t>> Bytes(const Graph& g) {
  auto bytes = tflite_format::WriteTflite(g);
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  return std::make_shared<const std::vector<uint8_t>>(std::move(bytes).value());
}

Status ReadStatus(const std::vector<uint8_t>& bytes) {
  return tflite_format::ReadTflite(std::make_shared<const std::vector<uint8_t>>(bytes), "crafted.tflite").status();
}

// Reads and prepares; an error from either stage counts.
Status LoadAndPrepare(const std::vector<uint8_t>& bytes) {
  auto g = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(bytes), "crafted.tflite");
  if (!g.ok()) return g.status();
  auto it = Interpreter::Create(*g);
  return it.status();
}

void ExpectError(const Status& s, const std::string& fragment) {
  ASSERT_FALSE(s.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << "error must be one line: " << s.message();
}

TEST(TfliteReader, RoundTripsOwnWriter) {
  Graph g = TinyInt8Graph();
  g.metadata["labels"] = {'a', ',', 'b', ',', 'c'};
  auto read = tflite_format::ReadTflite(Bytes(g), "tiny.tflite");
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_EQ(read->tensors.size(), g.tensors.size());
  ASSERT_EQ(read->ops.size(), 3u);
  EXPECT_EQ(read->ops[0].type, OpType::kConv2D);
  EXPECT_EQ(read->ops[0].version, 3);
  EXPECT_EQ(read->ops[0].options.activation, Activation::kRelu);
  EXPECT_EQ(read->tensors[1].quant.scale.size(), 3u);
  EXPECT_EQ(reinterpret_cast<const int8_t*>(read->tensors[1].data)[5], 6);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(read->tensors[1].data) % 16, 0u);
  EXPECT_EQ(read->tensors[0].quant.zero_point[0], -3);
  EXPECT_EQ(std::string(read->metadata["labels"].begin(), read->metadata["labels"].end()), "a,b,c");
}

TEST(TfliteReader, SharedModelSurvivesWriteAndReadWithIdenticalOutputs) {
  PCLS_REQUIRE_SHARED("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite");
  auto original = LoadModelFile(testing::SharedPath("models/sscma_mbv2_0.35_rep_cifar10_int8.tflite"));
  ASSERT_TRUE(original.ok()) << original.status().message();
  auto rewritten = LoadModelBytes(Bytes(**original), "rewritten.tflite");
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().message();
  auto a = Interpreter::Create(*original);
  auto b = Interpreter::Create(*rewritten);
  ASSERT_TRUE(a.ok() && b.ok());
  const auto input = testing::ReadFileBytes(testing::SharedPath("golden/inputs/sscma_cifar10_rand_07.bin"));
  std::memcpy((*a)->input_data(0), input.data(), input.size());
  std::memcpy((*b)->input_data(0), input.data(), input.size());
  (*a)->Invoke();
  (*b)->Invoke();
  EXPECT_EQ(0, std::memcmp((*a)->output_data(0), (*b)->output_data(0), 10));
}

TEST(TfliteReader, RejectsEmptyAndShortAndForeignFiles) {
  ExpectError(ReadStatus({}), "crafted.tflite: empty file");
  ExpectError(ReadStatus({1, 2, 3}), "too short");
  ExpectError(ReadStatus(std::vector<uint8_t>(64, 0)), "TFL3");
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 0};
  ExpectError(ReadStatus(png), "not a TFLite model");
}

TEST(TfliteReader, EveryTruncationIsRejectedCleanly) {
  const auto bytes = *Bytes(TinyInt8Graph());
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + n);
    Status s = LoadAndPrepare(prefix);
    ASSERT_FALSE(s.ok()) << "prefix of " << n << " bytes was accepted";
    ASSERT_NE(s.message().find("crafted.tflite"), std::string::npos) << s.message();
  }
}

TEST(TfliteReader, RandomByteCorruptionNeverCrashes) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const auto bytes = *Bytes(TinyInt8Graph());
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) mutated[rng() % mutated.size()] = static_cast<uint8_t>(rng());
    auto g = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(mutated), "m.tflite");
    if (!g.ok()) {
      ++rejected;
      continue;
    }
    auto it = Interpreter::Create(*g);
    if (!it.ok()) {
      ++rejected;
      continue;
    }
    if ((*it)->total_macs() < 10'000'000) (*it)->Invoke();  // a surviving model must run
  }
  EXPECT_GT(rejected, 0);
}

TEST(TfliteReader, RejectsBadTensorAndOperatorIndices) {
  Graph g = TinyInt8Graph();
  g.ops[1].inputs[0] = 99;
  ExpectError(ReadStatus(*Bytes(g)), "tensor index 99 out of range");
  g = TinyInt8Graph();
  g.outputs = {-5};
  ExpectError(ReadStatus(*Bytes(g)), "out of range");
}

TEST(TfliteReader, RejectsNegativeAndOverflowingShapes) {
  Graph g = TinyInt8Graph();
  g.tensors[3].shape = {1, -4, 4, 3};
  ExpectError(ReadStatus(*Bytes(g)), "negative or dynamic dimension");
  g = TinyInt8Graph();
  g.tensors[3].shape = {65536, 65536, 65536, 3};
  ExpectError(ReadStatus(*Bytes(g)), "overflows");
  g = TinyInt8Graph();
  g.tensors[3].shape = {1, 1, 1, 1, 1, 1, 1};
  ExpectError(ReadStatus(*Bytes(g)), "rank 7");
}

TEST(TfliteReader, RejectsUnsupportedVersionsOpsAndTypes) {
  Graph g = TinyInt8Graph();
  g.ops[0].version = 42;
  ExpectError(ReadStatus(*Bytes(g)), "op version 42 not supported");

  // An op the runtime does not have (TANH), written with the raw schema API.
  flatbuffers::FlatBufferBuilder fbb;
  auto t0 = tflite::CreateTensor(fbb, fbb.CreateVector(std::vector<int32_t>{1, 4}), tflite::TensorType::FLOAT32, 0);
  auto t1 = tflite::CreateTensor(fbb, fbb.CreateVector(std::vector<int32_t>{1, 4}), tflite::TensorType::FLOAT32, 0);
  auto op = tflite::CreateOperator(fbb, 0, fbb.CreateVector(std::vector<int32_t>{0}), fbb.CreateVector(std::vector<int32_t>{1}));
  auto sg = tflite::CreateSubGraph(fbb, fbb.CreateVector(std::vector{t0, t1}), fbb.CreateVector(std::vector<int32_t>{0}),
                                   fbb.CreateVector(std::vector<int32_t>{1}), fbb.CreateVector(std::vector{op}));
  auto code = tflite::CreateOperatorCode(fbb, 28, 0, 1, tflite::BuiltinOperator::TANH);
  auto model = tflite::CreateModel(fbb, 3, fbb.CreateVector(std::vector{code}), fbb.CreateVector(std::vector{sg}), 0,
                                   fbb.CreateVector(std::vector{tflite::CreateBuffer(fbb)}));
  tflite::FinishModelBuffer(fbb, model);
  std::vector<uint8_t> tanh(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  ExpectError(ReadStatus(tanh), "op TANH not supported");
}

TEST(TfliteReader, RejectsMissingBuffersAndWrongBufferSizes) {
  flatbuffers::FlatBufferBuilder fbb;
  auto t0 = tflite::CreateTensor(fbb, fbb.CreateVector(std::vector<int32_t>{1, 4}), tflite::TensorType::FLOAT32, 7);  // no buffer 7
  auto sg = tflite::CreateSubGraph(fbb, fbb.CreateVector(std::vector{t0}), fbb.CreateVector(std::vector<int32_t>{0}),
                                   fbb.CreateVector(std::vector<int32_t>{0}), 0);
  auto model = tflite::CreateModel(fbb, 3, 0, fbb.CreateVector(std::vector{sg}), 0, fbb.CreateVector(std::vector{tflite::CreateBuffer(fbb)}));
  tflite::FinishModelBuffer(fbb, model);
  ExpectError(ReadStatus(std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize())), "buffer index 7 out of range");

  flatbuffers::FlatBufferBuilder fbb2;
  auto data = fbb2.CreateVector(std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
  auto buffer = tflite::CreateBuffer(fbb2, data);
  auto t1 = tflite::CreateTensor(fbb2, fbb2.CreateVector(std::vector<int32_t>{3, 1}), tflite::TensorType::FLOAT32, 1);  // needs 12
  auto sg2 = tflite::CreateSubGraph(fbb2, fbb2.CreateVector(std::vector{t1}), fbb2.CreateVector(std::vector<int32_t>{0}),
                                    fbb2.CreateVector(std::vector<int32_t>{0}), 0);
  auto model2 = tflite::CreateModel(fbb2, 3, 0, fbb2.CreateVector(std::vector{sg2}), 0,
                                    fbb2.CreateVector(std::vector{tflite::CreateBuffer(fbb2), buffer}));
  tflite::FinishModelBuffer(fbb2, model2);
  ExpectError(ReadStatus(std::vector<uint8_t>(fbb2.GetBufferPointer(), fbb2.GetBufferPointer() + fbb2.GetSize())),
              "holds 6 bytes, shape needs 12");
}

TEST(TfliteReader, RejectsBadQuantization) {
  Graph g = TinyInt8Graph();
  g.tensors[1].quant.scale = {0.01f, 0.02f};  // 2 scales for 3 channels
  g.tensors[1].quant.zero_point = {0, 0};
  ExpectError(ReadStatus(*Bytes(g)), "2 scales for dimension of size 3");
  g = TinyInt8Graph();
  g.tensors[0].quant.zero_point = {134217728};  // found by fuzzing: overflowed the FC accumulator
  ExpectError(ReadStatus(*Bytes(g)), "zero point 134217728 outside the range of int8");
  g = TinyInt8Graph();
  g.tensors[0].quant.scale = {-1.0f};
  ExpectError(ReadStatus(*Bytes(g)), "scale must be finite and positive");
}

TEST(Interpreter, RejectsInconsistentGraphsAtPrepare) {
  Graph g = TinyInt8Graph();
  g.tensors[3].shape = {1, 4, 5, 3};  // conv output disagrees with geometry
  ExpectError(LoadAndPrepare(*Bytes(g)), "disagrees with computed");
  g = TinyInt8Graph();
  std::swap(g.ops[0], g.ops[1]);  // MEAN before its input exists
  ExpectError(LoadAndPrepare(*Bytes(g)), "used before it is computed");
  g = TinyInt8Graph();
  g.tensors[6].quant.scale = {0.5f};  // int8 softmax output must be 1/256
  ExpectError(LoadAndPrepare(*Bytes(g)), "scale 1/256");
  g = TinyInt8Graph();
  g.tensors[3].quant.scale = {1e-15f};  // multiplier ~2e11 would shift int32 by > 31 bits (found by fuzzing)
  ExpectError(LoadAndPrepare(*Bytes(g)), "requantization multiplier");
}

}  // namespace
}  // namespace personcls
