// ONNX writer and reader: Graph -> ONNX -> Graph must compute the same outputs (float32
// within 1e-5, docs/TESTING.md) for small graphs that exercise every conversion, for the
// shared float TFLite models and for our deploy graph; the files must pass onnx::checker.
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <random>

#include "formats/onnx/onnx_reader.h"
#include "formats/onnx/onnx_writer.h"
#include "graph_builder.h"
#include "personcls/arch.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::GraphBuilder;

std::vector<float> RandomFloats(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Runs graph input 0 = `input` through the reference kernels; returns output 0.
std::vector<float> Run(std::shared_ptr<const Graph> graph, const std::vector<float>& input) {
  InterpreterOptions options;
  options.kernels = KernelSet::kReference;
  auto it = Interpreter::Create(std::move(graph), options);
  EXPECT_TRUE(it.ok()) << it.status().message();
  if (!it.ok()) return {};
  EXPECT_EQ((*it)->input_desc(0).num_elements(), static_cast<int64_t>(input.size()));
  std::memcpy((*it)->input_data(0), input.data(), input.size() * sizeof(float));
  (*it)->Invoke();
  const auto* out = static_cast<const float*>((*it)->output_data(0));
  return std::vector<float>(out, out + (*it)->output_desc(0).num_elements());
}

std::vector<uint8_t> WriteChecked(const Graph& g) {
  auto bytes = onnx_format::WriteOnnx(g, "test");
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  if (!bytes.ok()) return {};
  // The writer checks too; the test checks the serialized bytes independently.
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
  EXPECT_NO_THROW(onnx::checker::check_model(model));
  EXPECT_EQ(model.graph().input(0).name(), "input");
  EXPECT_EQ(model.graph().output(0).name(), "output");
  EXPECT_EQ(model.opset_import(0).version(), 13);
  return std::move(bytes).value();
}

// Graph -> ONNX -> Graph, then both run on `inputs` random inputs: max |difference|.
float RoundTripMaxDiff(const Graph& g, int inputs, uint32_t seed) {
  const auto bytes = WriteChecked(g);
  auto back = onnx_format::ReadOnnx(bytes, "roundtrip.onnx");
  EXPECT_TRUE(back.ok()) << back.status().message();
  if (!back.ok()) return INFINITY;
  auto original = std::make_shared<const Graph>(g);
  auto reread = std::make_shared<const Graph>(std::move(back).value());
  EXPECT_EQ(reread->tensors[reread->inputs[0]].shape, g.tensors[g.inputs[0]].shape);
  std::mt19937 rng(seed);
  float worst = 0;
  for (int i = 0; i < inputs; ++i) {
    const auto x = RandomFloats(rng, static_cast<size_t>(g.tensors[g.inputs[0]].num_elements()), 0.0f, 1.0f);
    const auto a = Run(original, x), b = Run(reread, x);
    EXPECT_EQ(a.size(), b.size());
    if (a.size() != b.size()) return INFINITY;
    for (size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::fabs(a[k] - b[k]));
  }
  return worst;
}

// Every conversion path of the writer in one graph, on an odd 7x7 input so that SAME
// padding puts its extra pixel at the end:
// [1,7,7,3] -> PAD(1,1,1,1) + VALID CONV 3x3 s2 RELU6 (folded) -> DW 3x3 s1 SAME x2 RELU
// -> AVG POOL 2x2 s2 SAME -> ADD const [C] -> CONV 3x3 s2 SAME -> PAD (kept: MAX POOL
// reads it) -> MAX POOL 2x2 -> MEAN(1,2) -> RESHAPE -> FC RELU -> SOFTMAX.
Graph EveryOpGraph(uint32_t seed) {
  std::mt19937 rng(seed);
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 7, 7, 3});
  const int pads = b.Const<int32_t>(DType::kInt32, {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0});
  const int padded = b.Tensor(DType::kFloat32, {1, 9, 9, 3});
  const int w1 = b.Const<float>(DType::kFloat32, {4, 3, 3, 3}, RandomFloats(rng, 108, -0.5f, 0.5f));
  const int b1 = b.Const<float>(DType::kFloat32, {4}, RandomFloats(rng, 4, -0.1f, 0.1f));
  const int c1 = b.Tensor(DType::kFloat32, {1, 4, 4, 4});
  const int w2 = b.Const<float>(DType::kFloat32, {1, 3, 3, 8}, RandomFloats(rng, 72, -0.5f, 0.5f));
  const int b2 = b.Const<float>(DType::kFloat32, {8}, RandomFloats(rng, 8, -0.1f, 0.1f));
  const int c2 = b.Tensor(DType::kFloat32, {1, 4, 4, 8});
  const int pool = b.Tensor(DType::kFloat32, {1, 2, 2, 8});
  const int addend = b.Const<float>(DType::kFloat32, {8}, RandomFloats(rng, 8, -0.5f, 0.5f));
  const int sum = b.Tensor(DType::kFloat32, {1, 2, 2, 8});
  const int w3 = b.Const<float>(DType::kFloat32, {5, 3, 3, 8}, RandomFloats(rng, 360, -0.5f, 0.5f));
  const int c3 = b.Tensor(DType::kFloat32, {1, 1, 1, 5});
  const int pads2 = b.Const<int32_t>(DType::kInt32, {4, 2}, {0, 0, 0, 1, 1, 0, 0, 0});
  const int padded2 = b.Tensor(DType::kFloat32, {1, 2, 2, 5});
  const int maxpool = b.Tensor(DType::kFloat32, {1, 1, 1, 5});
  const int axes = b.Const<int32_t>(DType::kInt32, {2}, {1, 2});
  const int mean = b.Tensor(DType::kFloat32, {1, 1, 1, 5});
  const int shape = b.Const<int32_t>(DType::kInt32, {2}, {1, 5});
  const int flat = b.Tensor(DType::kFloat32, {1, 5});
  const int fw = b.Const<float>(DType::kFloat32, {3, 5}, RandomFloats(rng, 15, -1.0f, 1.0f));
  const int fb = b.Const<float>(DType::kFloat32, {3}, RandomFloats(rng, 3, -0.1f, 0.1f));
  const int logits = b.Tensor(DType::kFloat32, {1, 3});
  const int prob = b.Tensor(DType::kFloat32, {1, 3});
  OpOptions conv1;
  conv1.stride_h = conv1.stride_w = 2;
  conv1.activation = Activation::kRelu6;
  OpOptions dw;
  dw.padding = Padding::kSame;
  dw.depth_multiplier = 2;
  dw.activation = Activation::kRelu;
  OpOptions avg;
  avg.padding = Padding::kSame;
  avg.filter_h = avg.filter_w = 2;
  avg.stride_h = avg.stride_w = 2;
  OpOptions conv3;
  conv3.padding = Padding::kSame;
  conv3.stride_h = conv3.stride_w = 2;
  OpOptions maxp;
  maxp.filter_h = maxp.filter_w = 2;
  OpOptions mean_opts;
  mean_opts.keep_dims = true;
  OpOptions fc;
  fc.activation = Activation::kRelu;
  b.Op(OpType::kPad, {in, pads}, {padded})
      .Op(OpType::kConv2D, {padded, w1, b1}, {c1}, conv1)
      .Op(OpType::kDepthwiseConv2D, {c1, w2, b2}, {c2}, dw)
      .Op(OpType::kAveragePool2D, {c2}, {pool}, avg)
      .Op(OpType::kAdd, {pool, addend}, {sum})
      .Op(OpType::kConv2D, {sum, w3, -1}, {c3}, conv3)
      .Op(OpType::kPad, {c3, pads2}, {padded2})
      .Op(OpType::kMaxPool2D, {padded2}, {maxpool}, maxp)
      .Op(OpType::kMean, {maxpool, axes}, {mean}, mean_opts)
      .Op(OpType::kReshape, {mean, shape}, {flat})
      .Op(OpType::kFullyConnected, {flat, fw, fb}, {logits}, fc)
      .Op(OpType::kSoftmax, {logits}, {prob});
  b.Inputs({in}).Outputs({prob});
  return b.graph();
}

TEST(OnnxRoundTrip, EveryOpGraphComputesTheSame) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  const Graph g = EveryOpGraph(seed);
  EXPECT_LE(RoundTripMaxDiff(g, 5, seed), 1e-5f);
  // The PAD before the VALID conv is folded into Conv pads; the one before MAX POOL stays.
  onnx::ModelProto model;
  const auto bytes = WriteChecked(g);
  ASSERT_TRUE(model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  int pads = 0, convs = 0;
  for (const auto& node : model.graph().node()) {
    pads += node.op_type() == "Pad";
    convs += node.op_type() == "Conv";
  }
  EXPECT_EQ(pads, 1);
  EXPECT_EQ(convs, 3);
  EXPECT_EQ(model.graph().input(0).type().tensor_type().shape().dim(1).dim_value(), 3);  // NCHW
}

TEST(OnnxRoundTrip, SpatialReshapeAndSigmoidKeepNhwcOrder) {
  // RESHAPE of a [1,2,2,3] activation (NHWC order matters) and a LOGISTIC output.
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 2, 2, 3});
  const int shape = b.Const<int32_t>(DType::kInt32, {2}, {1, 12});
  const int flat = b.Tensor(DType::kFloat32, {1, 12});
  std::vector<float> w(12);
  for (int i = 0; i < 12; ++i) w[i] = static_cast<float>(i % 5) - 2.0f;
  const int fw = b.Const<float>(DType::kFloat32, {1, 12}, w);
  const int logit = b.Tensor(DType::kFloat32, {1, 1});
  const int prob = b.Tensor(DType::kFloat32, {1, 1});
  b.Op(OpType::kReshape, {in, shape}, {flat}).Op(OpType::kFullyConnected, {flat, fw, -1}, {logit}).Op(OpType::kLogistic, {logit}, {prob});
  b.Inputs({in}).Outputs({prob});
  EXPECT_LE(RoundTripMaxDiff(b.graph(), 3, testing::TestSeed()), 1e-6f);
}

TEST(OnnxRoundTrip, SoftmaxBetaSurvivesAsAMulByAScalar) {
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 1, 1, 4});
  const int out = b.Tensor(DType::kFloat32, {1, 1, 1, 4});
  OpOptions o;
  o.softmax_beta = 2.5f;
  b.Op(OpType::kSoftmax, {in}, {out}, o).Inputs({in}).Outputs({out});
  auto back = onnx_format::ReadOnnx(WriteChecked(b.graph()), "beta.onnx");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->ops.size(), 1u);
  EXPECT_EQ(back->ops[0].options.softmax_beta, 2.5f);
  EXPECT_LE(RoundTripMaxDiff(b.graph(), 3, testing::TestSeed()), 1e-6f);
}

TEST(OnnxRoundTrip, DeployGraphWithRandomWeights) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  auto config = ArchFromName("mbv2-rep-0.35");
  ASSERT_TRUE(config.ok());
  auto spec = DescribeArch(*config);
  ASSERT_TRUE(spec.ok());
  DeployWeights w = ZeroDeployWeights(*spec, 2);
  std::mt19937 rng(seed);
  auto fill = [&](std::vector<float>& v, int fan_in) {
    std::normal_distribution<float> dist(0.0f, std::sqrt(2.0f / static_cast<float>(fan_in)));
    for (float& x : v) x = dist(rng);
  };
  fill(w.stem.weight, 27);
  fill(w.stem.bias, 100);
  for (size_t i = 0; i < w.blocks.size(); ++i) {
    fill(w.blocks[i].weight, 9 * spec->blocks[i].in_c);
    fill(w.blocks[i].bias, 100);
  }
  fill(w.fc_weight, spec->feature_channels);
  fill(w.fc_bias, 100);
  for (bool sigmoid : {false, true}) {
    SCOPED_TRACE(sigmoid ? "sigmoid head" : "softmax head");
    auto graph = BuildDeployGraph(*config, w, sigmoid);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    EXPECT_LE(RoundTripMaxDiff(*graph, 2, seed), 1e-5f);
  }
}

class OnnxSharedModel : public ::testing::TestWithParam<const char*> {};

TEST_P(OnnxSharedModel, FloatTfliteRoundTripsThroughOnnx) {
  const std::string rel = std::string("models/") + GetParam();
  PCLS_REQUIRE_SHARED(rel);
  auto graph = LoadModelFile(testing::SharedPath(rel));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_LE(RoundTripMaxDiff(**graph, 2, testing::TestSeed()), 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(Shared, OnnxSharedModel, ::testing::Values("mlperf_vww_96_float.tflite", "tinymaix_vww96_f.tflite"));

TEST(OnnxWriter, CarriesMetadataAndProducer) {
  Graph g = EveryOpGraph(1);
  g.metadata["labels"] = {'a', ',', 'b', ',', 'c'};
  const auto bytes = WriteChecked(g);
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  EXPECT_EQ(model.producer_name(), "personcls");
  EXPECT_EQ(model.producer_version(), "test");
  auto back = onnx_format::ReadOnnx(bytes, "m.onnx");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(std::string(back->metadata["labels"].begin(), back->metadata["labels"].end()), "a,b,c");
}

TEST(OnnxWriter, RejectsInt8GraphsNamingTheTensor) {
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_int8.tflite");
  auto graph = LoadModelFile(testing::SharedPath("models/mlperf_vww_96_int8.tflite"));
  ASSERT_TRUE(graph.ok());
  auto bytes = onnx_format::WriteOnnx(**graph, "test");
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.status().message().find("float32 graphs only"), std::string::npos) << bytes.status().message();
}

TEST(OnnxReader, LoadModelFileDispatchesOnTheOnnxExtension) {
  const std::string path = testing::TempDir() + "/m.onnx";
  testing::WriteFileBytes(path, WriteChecked(EveryOpGraph(2)));
  auto graph = LoadModelFile(path);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ((*graph)->tensors[(*graph)->inputs[0]].shape, (std::vector<int32_t>{1, 7, 7, 3}));
}

}  // namespace
}  // namespace personcls
