// The ONNX reader on hand-built models (forms our writer never emits: NHWC inputs with a
// Transpose, MatMul + Add, standalone Relu, Clip) and on malformed files: every bad file
// must give one error line naming the file and the problem; none may crash.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <random>

#include "formats/onnx/onnx_reader.h"
#include "formats/onnx_test_util.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::AddFloats;
using testing::AddNode;
using testing::AddValue;
using testing::Serialize;
using testing::SetInts;

// x: [1,2,2,3] NHWC -> Transpose(0,3,1,2) -> Conv 1x1 (3 -> 2 channels, weights w[o][i],
// no bias) -> Relu -> GlobalAveragePool -> Flatten -> MatMul [2,2] -> Add [2] -> Clip(0,6)
// -> Sigmoid.
onnx::ModelProto HandBuiltModel() {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  AddValue(g->mutable_input(), "x", {1, 2, 2, 3});
  AddFloats(g, "w", {2, 3, 1, 1}, {1, -1, 0.5f, -2, 1, 1});
  AddFloats(g, "mm", {2, 2}, {1, 2, 3, -1});
  AddFloats(g, "bias", {2}, {0.5f, -0.25f});
  AddFloats(g, "lo", {}, {0});
  AddFloats(g, "hi", {}, {6});
  SetInts(AddNode(g, "Transpose", {"x"}, "nchw"), "perm", {0, 3, 1, 2});
  AddNode(g, "Conv", {"nchw", "w"}, "conv");
  AddNode(g, "Relu", {"conv"}, "relu");
  AddNode(g, "GlobalAveragePool", {"relu"}, "gap");
  AddNode(g, "Flatten", {"gap"}, "flat");
  AddNode(g, "MatMul", {"flat", "mm"}, "mat");
  AddNode(g, "Add", {"mat", "bias"}, "sum");
  AddNode(g, "Clip", {"sum", "lo", "hi"}, "clip");
  AddNode(g, "Sigmoid", {"clip"}, "y");
  AddValue(g->mutable_output(), "y", {1, 2});
  return m;
}

Status LoadAndPrepare(const std::vector<uint8_t>& bytes) {
  auto g = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(bytes), "crafted.onnx");
  if (!g.ok()) return g.status();
  return Interpreter::Create(*g).status();
}

void ExpectError(const onnx::ModelProto& m, const std::string& fragment) {
  Status s = LoadAndPrepare(Serialize(m));
  ASSERT_FALSE(s.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  EXPECT_EQ(s.message().rfind("crafted.onnx: ", 0), 0u) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << "error must be one line: " << s.message();
}

TEST(OnnxReader, HandBuiltNhwcModelMatchesADirectComputation) {
  auto graph = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(Serialize(HandBuiltModel())), "hand.onnx");
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  auto it = Interpreter::Create(*graph);
  ASSERT_TRUE(it.ok()) << it.status().message();
  // The Transpose only relabels the NHWC buffer, and Relu fuses into the conv.
  EXPECT_EQ((*graph)->ops.size(), 6u);  // CONV, MEAN, RESHAPE, FC, ADD (+RELU6), LOGISTIC
  const float x[12] = {0.1f, 0.9f, 0.3f, 0.7f, 0.2f, 0.5f, 0.4f, 0.4f, 0.8f, 0.6f, 0.0f, 1.0f};
  std::memcpy((*it)->input_data(0), x, sizeof(x));
  (*it)->Invoke();
  const float w[2][3] = {{1, -1, 0.5f}, {-2, 1, 1}};
  float gap[2] = {0, 0};
  for (int p = 0; p < 4; ++p)
    for (int o = 0; o < 2; ++o) gap[o] += std::max(0.0f, w[o][0] * x[3 * p] + w[o][1] * x[3 * p + 1] + w[o][2] * x[3 * p + 2]) / 4;
  const float sum[2] = {gap[0] * 1 + gap[1] * 3 + 0.5f, gap[0] * 2 - gap[1] - 0.25f};
  const auto* y = static_cast<const float*>((*it)->output_data(0));
  for (int o = 0; o < 2; ++o) EXPECT_NEAR(y[o], 1 / (1 + std::exp(-std::clamp(sum[o], 0.0f, 6.0f))), 1e-6) << o;
}

// Runs a model on a fixed [1,2,2,3] input; returns output 0.
std::vector<float> RunOnFixedInput(const onnx::ModelProto& m) {
  auto graph = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(Serialize(m)), "m.onnx");
  EXPECT_TRUE(graph.ok()) << graph.status().message();
  if (!graph.ok()) return {};
  auto it = Interpreter::Create(*graph);
  EXPECT_TRUE(it.ok()) << it.status().message();
  if (!it.ok()) return {};
  const float x[12] = {0.3f, 0.1f, 0.9f, 0.2f, 0.5f, 0.7f, 0.0f, 0.8f, 0.6f, 0.4f, 1.0f, 0.2f};
  std::memcpy((*it)->input_data(0), x, sizeof(x));
  (*it)->Invoke();
  const auto* y = static_cast<const float*>((*it)->output_data(0));
  return std::vector<float>(y, y + (*it)->output_desc(0).num_elements());
}

TEST(OnnxReader, ConstantNodesActAsInitializers) {
  onnx::ModelProto m = HandBuiltModel();
  auto* g = m.mutable_graph();
  // Move initializer "mm" into a Constant node in front of the graph.
  onnx::NodeProto constant;
  constant.set_op_type("Constant");
  constant.add_output("mm");
  auto* value = constant.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  *value->mutable_t() = g->initializer(1);
  g->mutable_initializer()->DeleteSubrange(1, 1);
  g->mutable_node()->Add()->Swap(&constant);
  for (int i = g->node_size() - 1; i > 0; --i) g->mutable_node()->SwapElements(i, i - 1);
  const auto expected = RunOnFixedInput(HandBuiltModel());
  const auto got = RunOnFixedInput(m);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got, expected);
}

TEST(OnnxReader, RejectsEmptyAndForeignBytes) {
  auto read = [](std::vector<uint8_t> b) { return onnx_format::ReadOnnx(b, "x.onnx").status(); };
  EXPECT_EQ(read({}).message(), "x.onnx: empty file");
  EXPECT_NE(read({0x89, 'P', 'N', 'G', 13, 10, 26, 10}).message().find("not an ONNX model"), std::string::npos);
  EXPECT_NE(read({0x08, 0x07}).message().find("no graph"), std::string::npos);
}

TEST(OnnxReader, EveryTruncationIsRejectedCleanly) {
  const auto bytes = Serialize(HandBuiltModel());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Status s = LoadAndPrepare(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n));
    ASSERT_FALSE(s.ok()) << "prefix of " << n << " bytes was accepted";
    ASSERT_EQ(s.message().rfind("crafted.onnx: ", 0), 0u) << s.message();
  }
}

TEST(OnnxReader, RandomByteCorruptionNeverCrashes) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const auto bytes = Serialize(HandBuiltModel());
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) mutated[rng() % mutated.size()] = static_cast<uint8_t>(rng());
    auto g = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(mutated), "m.onnx");
    auto it = g.ok() ? Interpreter::Create(*g) : Expected<std::unique_ptr<Interpreter>>(g.status());
    if (!it.ok()) {
      ++rejected;
      EXPECT_EQ(it.status().message().find('\n'), std::string::npos);
      continue;
    }
    if ((*it)->total_macs() < 10'000'000) (*it)->Invoke();  // a surviving model must run
  }
  EXPECT_GT(rejected, 0);
}

TEST(OnnxReader, RejectsBadInitializerSizes) {
  onnx::ModelProto m = HandBuiltModel();
  m.mutable_graph()->mutable_initializer(0)->mutable_float_data()->RemoveLast();
  ExpectError(m, "holds 5 values, dims need 6");
  m = HandBuiltModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_raw_data(std::string(10, '\0'));
  ExpectError(m, "raw_data holds 10 bytes, dims need 24");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, -2);
  ExpectError(m, "initializer 'w': negative dimension");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, int64_t{1} << 40);
  ExpectError(m, "too many elements");
}

TEST(OnnxReader, RejectsUnknownOpsNamingTheNode) {
  onnx::ModelProto m = HandBuiltModel();
  m.mutable_graph()->mutable_node(3)->set_op_type("LpPool");
  ExpectError(m, "node 3 'gap' (LpPool): op not supported");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_node(3)->set_domain("com.microsoft");
  ExpectError(m, "domain 'com.microsoft' not supported");
}

TEST(OnnxReader, RejectsMissingInputsAndOutputs) {
  onnx::ModelProto m = HandBuiltModel();
  m.mutable_graph()->mutable_node(2)->set_input(0, "nowhere");
  ExpectError(m, "node 2 'relu' (Relu): input 'nowhere' is not defined before this node");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_input()->Clear();
  ExpectError(m, "graph has no inputs");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_output(0)->set_name("ghost");
  ExpectError(m, "output 'ghost' is not computed by any node");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_node(1)->mutable_input()->RemoveLast();
  ExpectError(m, "(Conv): missing input 1");
  // Input -> Transpose -> output: nothing left to run.
  m = HandBuiltModel();
  m.mutable_graph()->mutable_node()->DeleteSubrange(1, 8);
  m.mutable_graph()->mutable_output(0)->set_name("nchw");
  ExpectError(m, "graph computes nothing");
}

TEST(OnnxReader, RejectsShapesAndAttributesItCannotRun) {
  onnx::ModelProto m = HandBuiltModel();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_param("W");
  ExpectError(m, "dimension 2 must be static");
  m = HandBuiltModel();
  SetInts(m.mutable_graph()->mutable_node(1), "strides", {0, 1});
  ExpectError(m, "strides value 0 out of range");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_node(0)->mutable_attribute(0)->set_ints(1, 2);  // perm 0,2,1,3
  ExpectError(m, "only NCHW <-> NHWC transposes");
  m = HandBuiltModel();
  SetInts(m.mutable_graph()->mutable_node(0), "perm", {0, 2, 1, 3});
  ExpectError(m, "attribute 'perm' given twice");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_initializer(4)->set_float_data(0, -1);
  ExpectError(m, "only Clip(0, 6) and Clip(0, inf)");
  m = HandBuiltModel();
  m.mutable_opset_import(0)->set_version(9);
  ExpectError(m, "opset 9 not supported");
  m = HandBuiltModel();
  m.mutable_graph()->mutable_initializer(1)->set_data_type(onnx::TensorProto::DOUBLE);
  ExpectError(m, "must be float32");
}

}  // namespace
}  // namespace personcls
