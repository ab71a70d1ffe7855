// QuantizeGraph on the twin's fused MobileNetV2-Rep: graph shape and parameters as TFLite's
// converter writes them, agreement with the float model, calibration methods, errors.
#include "personcls/quantize.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "quant_test_util.h"

namespace personcls {
namespace {

constexpr int kSize = 48;

struct Quantized {
  std::shared_ptr<const Graph> float_graph;
  std::vector<uint8_t> pixels;
  Graph int8;
};

Quantized MakeQuantized(CalibrationMethod method, size_t images = 8) {
  Quantized q;
  q.float_graph = testing::TwinDeployGraph(kSize);
  q.pixels = testing::RandomImages(images, kSize, testing::TestSeed());
  auto source = CalibrationFromPixels(q.pixels.data(), images, kSize, 3);
  QuantizeOptions o;
  o.method = method;
  auto g = QuantizeGraph(*q.float_graph, *source, o);
  EXPECT_TRUE(g.ok()) << g.status().message();
  if (g.ok()) q.int8 = std::move(g).value();
  return q;
}

const TensorDesc& Output(const Graph& g, const OpDesc& op) { return g.tensors[op.outputs[0]]; }

TEST(QuantizeGraph, ConverterShapeAndParameters) {
  Quantized q = MakeQuantized(CalibrationMethod::kMinMax);
  const Graph& f = *q.float_graph;
  const Graph& g = q.int8;
  // The float graph's ops in order, with MEAN [1,C] split into MEAN [1,1,1,C] + RESHAPE.
  ASSERT_EQ(g.ops.size(), f.ops.size() + 1);
  const size_t n = g.ops.size();
  EXPECT_EQ(g.ops[n - 4].type, OpType::kMean);
  EXPECT_TRUE(g.ops[n - 4].options.keep_dims);
  EXPECT_EQ(Output(g, g.ops[n - 4]).shape, (std::vector<int32_t>{1, 1, 1, 32}));
  EXPECT_EQ(g.ops[n - 3].type, OpType::kReshape);
  EXPECT_EQ(Output(g, g.ops[n - 3]).shape, (std::vector<int32_t>{1, 32}));
  EXPECT_EQ(Output(g, g.ops[n - 3]).quant.scale, Output(g, g.ops[n - 4]).quant.scale);
  EXPECT_EQ(g.ops[n - 2].type, OpType::kFullyConnected);
  EXPECT_EQ(g.ops[n - 1].type, OpType::kSoftmax);
  const TensorDesc& in = g.tensors[g.inputs[0]];
  EXPECT_EQ(in.dtype, DType::kInt8);
  EXPECT_EQ(in.quant.scale, std::vector<float>{1.0f / 255.0f});
  EXPECT_EQ(in.quant.zero_point, std::vector<int32_t>{-128});
  int convs = 0;
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const OpDesc& op = g.ops[k];
    SCOPED_TRACE(OpTypeName(op.type) + std::string(" ") + Output(g, op).name);
    EXPECT_EQ(op.type, k < n - 3 ? f.ops[k].type : f.ops[k - 1].type == OpType::kMean ? OpType::kReshape : f.ops[k - 1].type);
    const TensorDesc& x = g.tensors[op.inputs[0]];
    const TensorDesc& y = Output(g, op);
    EXPECT_EQ(y.dtype, DType::kInt8);
    ASSERT_EQ(y.quant.scale.size(), 1u);
    if (op.type == OpType::kPad) {
      EXPECT_EQ(op.version, 2);
      EXPECT_EQ(y.quant.scale, x.quant.scale);
      EXPECT_EQ(y.quant.zero_point, x.quant.zero_point);
    }
    if (op.type == OpType::kSoftmax) {
      EXPECT_EQ(y.quant.scale[0], 1.0f / 256.0f);
      EXPECT_EQ(y.quant.zero_point[0], -128);
    }
    if (op.type == OpType::kConv2D) {
      ++convs;
      EXPECT_EQ(op.version, 3);
      const TensorDesc& w = g.tensors[op.inputs[1]];
      const TensorDesc& b = g.tensors[op.inputs[2]];
      EXPECT_EQ(w.dtype, DType::kInt8);
      EXPECT_EQ(w.quant.scale.size(), static_cast<size_t>(w.shape[0]));  // per output channel
      EXPECT_EQ(w.quant.axis, 0);
      for (int32_t zp : w.quant.zero_point) EXPECT_EQ(zp, 0);
      const int8_t* wv = reinterpret_cast<const int8_t*>(w.data);
      for (int64_t i = 0; i < w.num_elements(); ++i) ASSERT_GE(wv[i], -127);
      EXPECT_EQ(b.dtype, DType::kInt32);
      for (size_t c = 0; c < w.quant.scale.size(); ++c) EXPECT_EQ(b.quant.scale[c], x.quant.scale[0] * w.quant.scale[c]);
      // ReLU / ReLU6 outputs: calibrated range starts at 0, so the zero point is -128.
      EXPECT_EQ(y.quant.zero_point[0], -128);
    }
    if (op.type == OpType::kFullyConnected) {
      EXPECT_EQ(op.version, 4);
      EXPECT_EQ(g.tensors[op.inputs[1]].quant.scale.size(), 1u);  // per tensor, as the converter
    }
  }
  EXPECT_EQ(convs, 1 + 6);  // stem + the 0.35 preset's six RepConv blocks
}

// Dequantized int8 probabilities follow the float model's.
TEST(QuantizeGraph, Int8TracksFloat) {
  Quantized q = MakeQuantized(CalibrationMethod::kMinMax, 16);
  auto int8 = std::make_shared<const Graph>(q.int8);
  const size_t n = static_cast<size_t>(kSize) * kSize * 3;
  float max_diff = 0;
  for (size_t i = 0; i < 16; ++i) {
    std::vector<uint8_t> f_in(n * 4), q_in(n);
    for (size_t j = 0; j < n; ++j) {
      const float x = q.pixels[i * n + j] / 255.0f;
      std::memcpy(&f_in[j * 4], &x, 4);
      q_in[j] = static_cast<uint8_t>(static_cast<int8_t>(q.pixels[i * n + j] - 128));
    }
    const std::vector<uint8_t> fo = testing::RunBytes(q.float_graph, f_in, KernelSet::kFast);
    const std::vector<uint8_t> qo = testing::RunBytes(int8, q_in, KernelSet::kReference);
    ASSERT_EQ(qo, testing::RunBytes(int8, q_in, KernelSet::kFast));  // fast int8 kernels are exact
    for (int c = 0; c < 2; ++c) {
      float p;
      std::memcpy(&p, &fo[c * 4], 4);
      const float pq = (static_cast<int8_t>(qo[c]) + 128) / 256.0f;
      max_diff = std::max(max_diff, std::abs(p - pq));
    }
  }
  EXPECT_LT(max_diff, 0.05f);
}

TEST(QuantizeGraph, MethodsNarrowRanges) {
  Quantized mm = MakeQuantized(CalibrationMethod::kMinMax);
  Quantized pc = MakeQuantized(CalibrationMethod::kPercentile);
  Quantized l2 = MakeQuantized(CalibrationMethod::kL2);
  bool narrower = false;
  for (size_t k = 0; k < mm.int8.ops.size(); ++k) {
    if (mm.int8.ops[k].type != OpType::kConv2D) continue;
    const float s = Output(mm.int8, mm.int8.ops[k]).quant.scale[0];
    EXPECT_LE(Output(pc.int8, pc.int8.ops[k]).quant.scale[0], s * 1.0001f);
    EXPECT_LE(Output(l2.int8, l2.int8.ops[k]).quant.scale[0], s * 1.0001f);
    narrower |= Output(l2.int8, l2.int8.ops[k]).quant.scale[0] < s * 0.99f;
  }
  EXPECT_TRUE(narrower);
}

TEST(QuantizeGraph, Errors) {
  auto f = testing::TwinDeployGraph(kSize);
  std::vector<uint8_t> px = testing::RandomImages(2, kSize, 1);
  auto none = CalibrationFromPixels(px.data(), 0, kSize, 3);
  auto empty = QuantizeGraph(*f, *none);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "empty calibration set");

  auto small = CalibrationFromPixels(px.data(), 1, 32, 3);
  auto wrong = QuantizeGraph(*f, *small);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("calibration images are 32x32x3 but the model input is [1, 48, 48, 3]"), std::string::npos)
      << wrong.status().message();

  auto good = CalibrationFromPixels(px.data(), 2, kSize, 3);
  auto int8 = QuantizeGraph(*f, *good);
  ASSERT_TRUE(int8.ok());
  auto again = QuantizeGraph(*int8, *good);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("float32"), std::string::npos) << again.status().message();

  Graph nan = *f;
  for (TensorDesc& t : nan.tensors) {
    if (t.name == "head.fc.bias") {
      float* v = reinterpret_cast<float*>(nan.AllocateConstant(t.num_bytes()));
      v[0] = NAN;
      t.data = reinterpret_cast<const uint8_t*>(v);
    }
  }
  auto bad = QuantizeGraph(nan, *good);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "constant tensor 'head.fc.bias' holds NaN or infinity");

  EXPECT_FALSE(CalibrationMethodFromName("kl").ok());
  EXPECT_FALSE(CalibrationFromDirectory(testing::TempDir(), 100).ok());  // no images
}

// Calibration draws a class-balanced seeded sample: 10 images of class 0 and 2 of class 1,
// 4 drawn, gives both of class 1; the seed picks which of class 0; sub-directories are
// classes when there is no labels.csv.
TEST(Calibration, ClassBalancedSeededSample) {
  const std::string dir = testing::TempDir();
  std::filesystem::create_directories(dir + "/csv");
  std::ofstream labels(dir + "/csv/labels.csv");
  labels << "file,label\n";
  for (int i = 0; i < 12; ++i) {
    const int value = i < 10 ? 10 + i : 200 + i;  // class 1: 210, 211
    const std::string name = "img" + std::to_string(i) + ".ppm";
    std::ofstream(dir + "/csv/" + name) << "P6\n1 1\n255\n" << static_cast<char>(value) << static_cast<char>(value) << static_cast<char>(value);
    labels << name << "," << (i < 10 ? 0 : 1) << "\n";
    const std::string folder = dir + "/folders/" + (i < 10 ? "a" : "b");
    std::filesystem::create_directories(folder);
    std::filesystem::copy_file(dir + "/csv/" + name, folder + "/" + name);
  }
  labels.close();
  TensorDesc desc;
  desc.dtype = DType::kFloat32;
  desc.shape = {1, 1, 1, 3};
  auto values = [&](const std::string& d, uint64_t seed) {
    auto source = CalibrationFromDirectory(d, 4, std::nullopt, seed);
    EXPECT_TRUE(source.ok()) << source.status().message();
    std::multiset<int> v;
    for (size_t i = 0; i < (*source)->size(); ++i) {
      float x[3];
      EXPECT_TRUE((*source)->Fill(i, desc, x).ok());
      v.insert(static_cast<int>(std::lround(x[0] * 255)));
    }
    return v;
  };
  for (const char* d : {"/csv", "/folders"}) {
    const std::multiset<int> a = values(dir + d, 1), b = values(dir + d, 1);
    EXPECT_EQ(a, b) << "the same seed draws the same sample";
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a.count(210) + a.count(211), 2u) << d << ": both images of the small class";
  }
  std::set<std::multiset<int>> samples;
  for (uint64_t seed = 0; seed < 8; ++seed) samples.insert(values(dir + "/csv", seed));
  EXPECT_GT(samples.size(), 1u) << "the seed changes the sample";
}

}  // namespace
}  // namespace personcls
