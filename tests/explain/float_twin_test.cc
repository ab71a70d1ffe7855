// The float twin of int8 graphs: dequantized constants, float activations, dropped
// QUANTIZE/DEQUANTIZE, the input mapping, and outputs close to the int8 model's.
#include "explain/float_twin.h"

#include <cmath>
#include <random>

#include "explain/gradcam.h"
#include "graph_builder.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "personcls/preprocess.h"
#include "test_util.h"

namespace personcls::explain {
namespace {

using testing::GraphBuilder;

// int8 input [1,4,4,1] -> CONV 3x3 SAME RELU (per-channel) -> MEAN -> FC -> SOFTMAX.
std::shared_ptr<const Graph> TinyInt8Net() {
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 4, 4, 1}, {1.0f / 255}, {-128});
  std::vector<int8_t> wq(18);
  for (int i = 0; i < 18; ++i) wq[i] = static_cast<int8_t>((i * 37) % 61 - 30);
  const int w = b.Const(DType::kInt8, {2, 3, 3, 1}, wq, {0.02f, 0.01f}, {0, 0}, 0);
  const int bias = b.Const(DType::kInt32, {2}, std::vector<int32_t>{300, -150});
  const int a = b.Tensor(DType::kInt8, {1, 4, 4, 2}, {0.02f}, {-128});
  OpOptions conv;
  conv.padding = Padding::kSame;
  conv.activation = Activation::kRelu;
  b.Op(OpType::kConv2D, {in, w, bias}, {a}, conv, 3);
  const int axes = b.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int m = b.Tensor(DType::kInt8, {1, 2}, {0.02f}, {-128});
  b.Op(OpType::kMean, {a, axes}, {m}, {}, 2);
  const int fw = b.Const(DType::kInt8, {2, 2}, std::vector<int8_t>{90, -60, -70, 100}, {0.05f}, {0});
  const int fb = b.Const(DType::kInt32, {2}, std::vector<int32_t>{100, -100});
  const int z = b.Tensor(DType::kInt8, {1, 2}, {0.05f}, {0});
  b.Op(OpType::kFullyConnected, {m, fw, fb}, {z}, {}, 4);
  const int p = b.Tensor(DType::kInt8, {1, 2}, {1.0f / 256}, {-128});
  b.Op(OpType::kSoftmax, {z}, {p}, {}, 2);
  b.Inputs({in}).Outputs({p});
  return b.Build();
}

TEST(FloatTwin, DequantizesConstantsAndFloatsActivations) {
  auto graph = TinyInt8Net();
  auto twin = MakeFloatTwin(graph);
  ASSERT_TRUE(twin.ok()) << twin.status().message();
  const Graph& t = *twin->graph;
  ASSERT_EQ(t.ops.size(), graph->ops.size());
  for (const OpDesc& op : t.ops)
    for (int i : op.inputs)
      if (i >= 0 && !(t.tensors[i].is_constant() && t.tensors[i].dtype == DType::kInt32)) {
        EXPECT_EQ(t.tensors[i].dtype, DType::kFloat32);
      }
  const auto* w = reinterpret_cast<const float*>(t.tensors[t.ops[0].inputs[1]].data);
  const auto* wq = reinterpret_cast<const int8_t*>(graph->tensors[graph->ops[0].inputs[1]].data);
  for (int i = 0; i < 18; ++i) EXPECT_FLOAT_EQ(w[i], (i < 9 ? 0.02f : 0.01f) * wq[i]) << i;  // per output channel
  const auto* bias = reinterpret_cast<const float*>(t.tensors[t.ops[0].inputs[2]].data);
  EXPECT_FLOAT_EQ(bias[0], 300 * (1.0f / 255) * 0.02f);
  EXPECT_FLOAT_EQ(bias[1], -150 * (1.0f / 255) * 0.01f);
  const auto* fb = reinterpret_cast<const float*>(t.tensors[t.ops[2].inputs[2]].data);
  EXPECT_FLOAT_EQ(fb[0], 100 * 0.02f * 0.05f);
  ASSERT_TRUE(twin->input_normalization.has_value());
  EXPECT_FLOAT_EQ(twin->input_normalization->mean, 0.0f);  // 128 + zero point -128
  EXPECT_FLOAT_EQ(twin->input_normalization->scale, 1.0f / 255);
}

TEST(FloatTwin, FloatGraphIsReturnedUnchanged) {
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 4});
  const int out = b.Tensor(DType::kFloat32, {1, 4});
  b.Op(OpType::kSoftmax, {in}, {out}).Inputs({in}).Outputs({out});
  auto graph = b.Build();
  auto twin = MakeFloatTwin(graph);
  ASSERT_TRUE(twin.ok());
  EXPECT_EQ(twin->graph.get(), graph.get());
  EXPECT_FALSE(twin->input_normalization.has_value());
}

TEST(FloatTwin, QuantizeAndDequantizeBecomeAliases) {
  // float in -> QUANTIZE -> int8 -> DEQUANTIZE -> float out -> SOFTMAX
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 3});
  const int q = b.Tensor(DType::kInt8, {1, 3}, {0.1f}, {0});
  const int d = b.Tensor(DType::kFloat32, {1, 3});
  const int out = b.Tensor(DType::kFloat32, {1, 3});
  b.Op(OpType::kQuantize, {in}, {q}).Op(OpType::kDequantize, {q}, {d}).Op(OpType::kSoftmax, {d}, {out}).Inputs({in}).Outputs({out});
  auto twin = MakeFloatTwin(b.Build());
  ASSERT_TRUE(twin.ok()) << twin.status().message();
  ASSERT_EQ(twin->graph->ops.size(), 1u);
  EXPECT_EQ(twin->graph->ops[0].inputs[0], in);
  EXPECT_FALSE(twin->input_normalization.has_value());
  EXPECT_TRUE(Interpreter::Create(twin->graph).ok());
}

// Same image through the int8 model and its twin: they differ only by the int8 roundings.
// Budget: conv and MEAN outputs round by up to 0.01 each, the FC (weights up to 5) and its
// output (scale 0.05) move each logit by up to ~0.1, so the 2-class probability by < 0.06.
TEST(FloatTwin, OutputsTrackTheInt8Model) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  auto graph = TinyInt8Net();
  auto twin = MakeFloatTwin(graph);
  ASSERT_TRUE(twin.ok());
  auto q = Interpreter::Create(graph, {.kernels = KernelSet::kReference});
  auto f = Interpreter::Create(twin->graph, {.kernels = KernelSet::kReference});
  ASSERT_TRUE(q.ok() && f.ok()) << (q.ok() ? f.status().message() : q.status().message());
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 20; ++trial) {
    Image image{4, 4, 1, std::vector<uint8_t>(16)};
    for (uint8_t& p : image.pixels) p = static_cast<uint8_t>(rng() % 256);
    ASSERT_TRUE(FillInputTensor(image, (*q)->input_desc(0), (*q)->input_data(0)).ok());
    ASSERT_TRUE(FillInputTensor(image, (*f)->input_desc(0), (*f)->input_data(0), twin->input_normalization).ok());
    (*q)->Invoke();
    (*f)->Invoke();
    const auto* qo = static_cast<const int8_t*>((*q)->output_data(0));
    const auto* fo = static_cast<const float*>((*f)->output_data(0));
    for (int c = 0; c < 2; ++c) EXPECT_NEAR(fo[c], (qo[c] + 128) / 256.0, 0.06) << "trial " << trial << " class " << c;
  }
}

// The MLPerf VWW int8 model's twin runs through Grad-CAM, and its person probability stays
// within 0.1 of the int8 model's on real images.
TEST(FloatTwin, MlperfInt8TwinAgreesAndExplains) {
  PCLS_REQUIRE_SHARED("models/mlperf_vww_96_int8.tflite");
  PCLS_REQUIRE_SHARED("data/vww01-dev/labels.csv");
  auto graph = LoadModelFile(testing::SharedPath("models/mlperf_vww_96_int8.tflite"));
  ASSERT_TRUE(graph.ok());
  auto twin = MakeFloatTwin(*graph);
  ASSERT_TRUE(twin.ok()) << twin.status().message();
  auto q = Interpreter::Create(*graph);
  auto cam = GradCam::Create(twin->graph);
  ASSERT_TRUE(q.ok() && cam.ok()) << (cam.ok() ? "" : cam.status().message());
  const std::vector<std::string> files = {"000000000885.bin", "000000001000.bin", "000000002157.bin", "000000002299.bin"};
  for (const std::string& name : files) {
    const std::string path = testing::SharedPath("data/vww01-dev/" + name);
    auto image = LoadImage(path);
    ASSERT_TRUE(image.ok());
    ASSERT_TRUE(FillInputTensor(*image, (*q)->input_desc(0), (*q)->input_data(0)).ok());
    ASSERT_TRUE(FillInputTensor(*image, (*cam)->input_desc(), (*cam)->input_data(), twin->input_normalization).ok());
    (*q)->Invoke();
    const GradCamResult r = (*cam)->Explain(-1, CamScore::kProbability);
    const TensorDesc& od = (*q)->output_desc(0);
    const double p_int8 = od.quant.scale[0] * (static_cast<const int8_t*>((*q)->output_data(0))[1] - od.quant.zero_point[0]);
    EXPECT_NEAR(r.scores[1], p_int8, 0.1) << name;
  }
}

}  // namespace
}  // namespace personcls::explain
