// Interpreter invariants: the arena is what the planner planned (and reuses memory),
// Invoke() is repeatable and independent of thread count and kernel set, data pointers
// are stable, and Create() rejects bad graphs with one-line messages naming the operator.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph_builder.h"
#include "personcls/interpreter.h"
#include "runtime/fast_kernels.h"
#include "runtime/planner.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::GraphBuilder;

std::vector<int8_t> RandomInt8(std::mt19937& rng, size_t n, int lo = -127, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<float> RandomFloat(std::mt19937& rng, size_t n, float span = 1.0f) {
  std::uniform_real_distribution<float> d(-span, span);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<int32_t> RandomBias(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int32_t> d(-3000, 3000);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> RandomScales(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> d(0.004f, 0.012f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// An int8 chain with every kind of buffer: input [1,9,9,3] -> CONV_2D 3x3 SAME (8) ->
// DEPTHWISE 3x3 (x1) -> CONV_2D 1x1 (5) -> AVERAGE_POOL 2x2/2 -> MEAN {1,2} (int32
// scratch) -> FULLY_CONNECTED (7) -> SOFTMAX.
std::shared_ptr<const Graph> Int8Chain(std::mt19937& rng) {
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 9, 9, 3}, {0.02f}, {-5});
  const int w1 = b.Const<int8_t>(DType::kInt8, {8, 3, 3, 3}, RandomInt8(rng, 8 * 27), RandomScales(rng, 8), std::vector<int32_t>(8, 0));
  const int b1 = b.Const<int32_t>(DType::kInt32, {8}, RandomBias(rng, 8));
  const int t1 = b.Tensor(DType::kInt8, {1, 9, 9, 8}, {0.05f}, {3});
  const int w2 = b.Const<int8_t>(DType::kInt8, {1, 3, 3, 8}, RandomInt8(rng, 72), RandomScales(rng, 8), std::vector<int32_t>(8, 0), 3);
  const int b2 = b.Const<int32_t>(DType::kInt32, {8}, RandomBias(rng, 8));
  const int t2 = b.Tensor(DType::kInt8, {1, 9, 9, 8}, {0.04f}, {-2});
  const int w3 = b.Const<int8_t>(DType::kInt8, {5, 1, 1, 8}, RandomInt8(rng, 40), {0.01f}, {0});
  const int t3 = b.Tensor(DType::kInt8, {1, 9, 9, 5}, {0.03f}, {1});
  const int t4 = b.Tensor(DType::kInt8, {1, 4, 4, 5}, {0.03f}, {1});
  const int axes = b.Const<int32_t>(DType::kInt32, {2}, {1, 2});
  const int t5 = b.Tensor(DType::kInt8, {1, 5}, {0.02f}, {0});
  const int w6 = b.Const<int8_t>(DType::kInt8, {7, 5}, RandomInt8(rng, 35), {0.01f}, {0});
  const int b6 = b.Const<int32_t>(DType::kInt32, {7}, RandomBias(rng, 7));
  const int t6 = b.Tensor(DType::kInt8, {1, 7}, {0.05f}, {0});
  const int out = b.Tensor(DType::kInt8, {1, 7}, {1.0f / 256}, {-128});
  OpOptions same;
  same.padding = Padding::kSame;
  same.activation = Activation::kRelu6;
  OpOptions pool;
  pool.filter_h = pool.filter_w = 2;
  pool.stride_h = pool.stride_w = 2;
  b.Op(OpType::kConv2D, {in, w1, b1}, {t1}, same)
      .Op(OpType::kDepthwiseConv2D, {t1, w2, b2}, {t2}, same)
      .Op(OpType::kConv2D, {t2, w3}, {t3})
      .Op(OpType::kAveragePool2D, {t3}, {t4}, pool)
      .Op(OpType::kMean, {t4, axes}, {t5})
      .Op(OpType::kFullyConnected, {t5, w6, b6}, {t6})
      .Op(OpType::kSoftmax, {t6}, {out})
      .Inputs({in})
      .Outputs({out});
  return b.Build();
}

std::unique_ptr<Interpreter> MustCreate(std::shared_ptr<const Graph> g, InterpreterOptions o = {}) {
  auto interp = Interpreter::Create(std::move(g), o);
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  return interp.ok() ? std::move(interp).value() : nullptr;
}

template <typename T>
void SetInput(Interpreter& it, const std::vector<T>& v, int i = 0) {
  ASSERT_EQ(static_cast<int64_t>(v.size()), it.input_desc(i).num_elements());
  std::memcpy(it.input_data(i), v.data(), v.size() * sizeof(T));
}

std::vector<uint8_t> OutputBytes(const Interpreter& it, int i = 0) {
  const auto* p = static_cast<const uint8_t*>(it.output_data(i));
  return std::vector<uint8_t>(p, p + it.output_desc(i).num_bytes());
}

TEST(Interpreter, ArenaIsThePlannedArenaAndReusesMemory) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const auto graph = Int8Chain(rng);
  auto it = MustCreate(graph, {.kernels = KernelSet::kReference});
  ASSERT_TRUE(it);

  // The requests the interpreter plans: every activation from its producer (graph inputs:
  // op 0) to its last reader (graph outputs: past the last op), then each op's scratch
  // during that op only (here only int8 MEAN: one int32 per output element).
  const Graph& g = *graph;
  const int num_ops = static_cast<int>(g.ops.size());
  std::vector<int> first(g.tensors.size(), -1), last(g.tensors.size(), -1);
  for (int i : g.inputs) first[i] = last[i] = 0;
  for (int k = 0; k < num_ops; ++k) {
    for (int i : g.ops[k].inputs)
      if (i >= 0 && !g.tensors[i].is_constant()) last[i] = k;
    for (int o : g.ops[k].outputs) first[o] = last[o] = k;
  }
  for (int o : g.outputs) last[o] = num_ops;
  std::vector<BufferRequest> requests;
  size_t activation_sum = 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (first[t] < 0) continue;
    requests.push_back({static_cast<size_t>(g.tensors[t].num_bytes()), first[t], last[t]});
    activation_sum += static_cast<size_t>(g.tensors[t].num_bytes());
  }
  for (int k = 0; k < num_ops; ++k)
    if (g.ops[k].type == OpType::kMean) requests.push_back({static_cast<size_t>(g.tensors[g.ops[k].outputs[0]].num_elements() * 4), k, k});
  const MemoryPlan plan = PlanArena(requests);
  EXPECT_EQ(it->arena_bytes(), plan.total_bytes);
  EXPECT_LT(it->arena_bytes(), activation_sum) << "a chain must reuse memory";
  // The two largest neighbours (9x9x8 int8 each) must both fit.
  EXPECT_GE(it->arena_bytes(), size_t{2 * 9 * 9 * 8});
  EXPECT_LE(it->arena_bytes(), size_t{2 * 9 * 9 * 8 + 2 * 16 + 9 * 9 * 3});

  // Reference kernels: one per op, named after dtype and op.
  const auto infos = it->op_infos();
  ASSERT_EQ(infos.size(), 7u);
  EXPECT_EQ(infos[0].kernel, "s8_conv2d_ref");
  EXPECT_EQ(infos[1].kernel, "s8_dwconv2d_ref");
  EXPECT_EQ(infos[6].kernel, "s8_softmax_ref");
  EXPECT_EQ(infos[0].macs, int64_t{9 * 9 * 8 * 27});
  EXPECT_EQ(infos[1].macs, int64_t{9 * 9 * 8 * 9});
  int64_t macs = 0;
  for (const OpInfo& info : infos) macs += info.macs;
  EXPECT_EQ(it->total_macs(), macs);
}

TEST(Interpreter, ArenaLimitIsAnError) {
  std::mt19937 rng(1);
  InterpreterOptions o;
  o.max_arena_bytes = 100;
  auto it = Interpreter::Create(Int8Chain(rng), o);
  ASSERT_FALSE(it.ok());
  EXPECT_NE(it.status().message().find("arena"), std::string::npos) << it.status().message();
  EXPECT_EQ(it.status().message().find('\n'), std::string::npos);
}

TEST(Interpreter, InvokeIsRepeatableAndPointersAreStable) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  for (KernelSet ks : {KernelSet::kReference, KernelSet::kFast}) {
    auto it = MustCreate(Int8Chain(rng), {.kernels = ks});
    ASSERT_TRUE(it);
    void* in = it->input_data(0);
    const void* out = it->output_data(0);
    const auto x = RandomInt8(rng, 9 * 9 * 3, -128, 127);
    SetInput(*it, x);
    it->Invoke();
    const auto first = OutputBytes(*it);
    EXPECT_EQ(it->input_data(0), in);
    EXPECT_EQ(it->output_data(0), out);
    // The input tensor may be overwritten by later ops (its memory is reused); set it again.
    SetInput(*it, x);
    it->Invoke();
    EXPECT_EQ(OutputBytes(*it), first);
    // A different input, then the first one again.
    SetInput(*it, RandomInt8(rng, 9 * 9 * 3, -128, 127));
    it->Invoke();
    SetInput(*it, x);
    it->set_num_threads(2);
    it->Invoke();
    EXPECT_EQ(OutputBytes(*it), first);
    EXPECT_EQ(it->input_data(0), in);
    EXPECT_EQ(it->output_data(0), out);
    // Probabilities: 7 int8 values summing to about 256 - 7 * 128.
    int sum = 0;
    for (uint8_t v : first) sum += static_cast<int8_t>(v) + 128;
    EXPECT_NEAR(sum, 256, 7);
  }
}

TEST(Interpreter, InputAndOutputOfOneOpDoNotAlias) {
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 5, 7, 3});
  const int out = b.Tensor(DType::kFloat32, {1, 5, 7, 3});
  b.Op(OpType::kLogistic, {in}, {out}).Inputs({in}).Outputs({out});
  auto it = MustCreate(b.Build());
  ASSERT_TRUE(it);
  const auto* i0 = static_cast<const uint8_t*>(it->input_data(0));
  const auto* o0 = static_cast<const uint8_t*>(it->output_data(0));
  const size_t bytes = 5 * 7 * 3 * 4;
  EXPECT_TRUE(i0 + bytes <= o0 || o0 + bytes <= i0);
  EXPECT_GE(it->arena_bytes(), 2 * bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(i0) % 16, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(o0) % 16, 0u);
}

TEST(Interpreter, EarlyGraphOutputIsNotOverwrittenByLaterOps) {
  // out0 = logistic(in) is a graph output produced by op 0; ops 1 and 2 write tensors of
  // the same size after out0's last reader. Graph outputs must stay alive to the end.
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 3, 5, 7});
  const int out0 = b.Tensor(DType::kFloat32, {1, 3, 5, 7});
  const int t1 = b.Tensor(DType::kFloat32, {1, 3, 5, 7});
  const int out1 = b.Tensor(DType::kFloat32, {1, 3, 5, 7});
  const int one = b.Const<float>(DType::kFloat32, {1}, {1.0f});
  b.Op(OpType::kLogistic, {in}, {out0}).Op(OpType::kAdd, {out0, one}, {t1}).Op(OpType::kLogistic, {t1}, {out1});
  b.Inputs({in}).Outputs({out0, out1});
  auto it = MustCreate(b.Build(), {.kernels = KernelSet::kReference});
  ASSERT_TRUE(it);
  std::mt19937 rng(7);
  const auto x = RandomFloat(rng, 105, 3.0f);
  SetInput(*it, x);
  it->Invoke();
  const auto* y0 = static_cast<const float*>(it->output_data(0));
  const auto* y1 = static_cast<const float*>(it->output_data(1));
  for (size_t i = 0; i < x.size(); ++i) {
    const double s0 = 1.0 / (1.0 + std::exp(-static_cast<double>(x[i])));
    ASSERT_NEAR(y0[i], s0, 1e-6) << i;
    ASSERT_NEAR(y1[i], 1.0 / (1.0 + std::exp(-(s0 + 1.0))), 1e-6) << i;
  }
}

// Small single-op conv graphs of random odd geometry, int8 or float.
std::shared_ptr<const Graph> RandomConvGraph(std::mt19937& rng, DType type, bool depthwise) {
  auto pick = [&](std::initializer_list<int> v) { return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)); };
  const int h = pick({1, 3, 5, 7, 11, 13}), w = pick({1, 3, 5, 7, 11, 13}), c = pick({1, 3, 5, 8, 17, 32});
  const int k = pick({1, 3, 5}), stride = pick({1, 2}), m = depthwise ? pick({1, 2}) : 1;
  const int oc = depthwise ? c * m : pick({1, 3, 5, 8, 16, 17});
  OpOptions o;
  o.padding = (k > h || k > w) ? Padding::kSame : (pick({0, 1}) ? Padding::kSame : Padding::kValid);
  o.stride_h = o.stride_w = stride;
  o.activation = static_cast<Activation>(pick({0, 1, 2}));
  o.depth_multiplier = m;
  const bool same = o.padding == Padding::kSame;
  const int oh = same ? (h + stride - 1) / stride : (h - k + stride) / stride;
  const int ow = same ? (w + stride - 1) / stride : (w - k + stride) / stride;
  const std::vector<int32_t> wshape = depthwise ? std::vector<int32_t>{1, k, k, oc} : std::vector<int32_t>{oc, k, k, c};
  const size_t wn = static_cast<size_t>(k) * k * oc * (depthwise ? 1 : c);
  GraphBuilder b;
  int in, wt, bias, out;
  if (type == DType::kInt8) {
    in = b.Tensor(DType::kInt8, {1, h, w, c}, {0.03f}, {pick({-128, -7, 0, 9})});
    wt = b.Const<int8_t>(DType::kInt8, wshape, RandomInt8(rng, wn), RandomScales(rng, oc), std::vector<int32_t>(oc, 0), depthwise ? 3 : 0);
    bias = b.Const<int32_t>(DType::kInt32, {oc}, RandomBias(rng, oc));
    // Accumulated real values have a standard deviation of about 1.3 * sqrt(taps): cover
    // roughly +-3 sigma so that most outputs are not saturated.
    const double taps = static_cast<double>(k) * k * (depthwise ? 1 : c);
    const float out_scale = static_cast<float>(1.3 * std::sqrt(taps) * 3.0 / 128.0 * (0.8 + 0.2 * pick({0, 1, 2})));
    out = b.Tensor(DType::kInt8, {1, oh, ow, oc}, {out_scale}, {pick({-20, 0, 15})});
  } else {
    in = b.Tensor(DType::kFloat32, {1, h, w, c});
    wt = b.Const<float>(DType::kFloat32, wshape, RandomFloat(rng, wn));
    bias = b.Const<float>(DType::kFloat32, {oc}, RandomFloat(rng, oc));
    out = b.Tensor(DType::kFloat32, {1, oh, ow, oc});
  }
  b.Op(depthwise ? OpType::kDepthwiseConv2D : OpType::kConv2D, {in, wt, bias}, {out}, o).Inputs({in}).Outputs({out});
  return b.Build();
}

std::string Describe(const Graph& g) {
  const OpDesc& op = g.ops[0];
  std::string s = std::string(OpTypeName(op.type)) + " " + DTypeName(g.tensors[op.inputs[0]].dtype) + " in [";
  for (int32_t d : g.tensors[op.inputs[0]].shape) s += std::to_string(d) + ",";
  s += "] filter [";
  for (int32_t d : g.tensors[op.inputs[1]].shape) s += std::to_string(d) + ",";
  s += "] stride " + std::to_string(op.options.stride_h) + (op.options.padding == Padding::kSame ? " SAME " : " VALID ") +
       ActivationName(op.options.activation);
  return s;
}

void FillRandomInput(std::mt19937& rng, Interpreter& it) {
  const TensorDesc& d = it.input_desc(0);
  if (d.dtype == DType::kInt8) SetInput(it, RandomInt8(rng, d.num_elements(), -128, 127));
  else SetInput(it, RandomFloat(rng, d.num_elements(), 2.0f));
}

TEST(Interpreter, FastAndReferenceKernelsAgree) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  int fast_used = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const DType type = trial % 2 ? DType::kFloat32 : DType::kInt8;
    const auto g = RandomConvGraph(rng, type, trial % 4 >= 2);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + Describe(*g));
    auto ref = MustCreate(g, {.kernels = KernelSet::kReference});
    auto fast = MustCreate(g, {.kernels = KernelSet::kFast});
    ASSERT_TRUE(ref && fast);
    FillRandomInput(rng, *ref);
    std::memcpy(fast->input_data(0), ref->input_data(0), ref->input_desc(0).num_bytes());
    ref->Invoke();
    fast->Invoke();
    const std::string kernel = fast->op_infos()[0].kernel;
    if (kernel.find("_ref") == std::string::npos) ++fast_used;
    const int64_t n = ref->output_desc(0).num_elements();
    if (type == DType::kInt8) {
      const auto* r = static_cast<const int8_t*>(ref->output_data(0));
      const auto* f = static_cast<const int8_t*>(fast->output_data(0));
      int64_t bad = 0;
      for (int64_t i = 0; i < n; ++i)
        if (r[i] != f[i] && ++bad <= 3) ADD_FAILURE() << "output " << i << ": fast " << int{f[i]} << ", reference " << int{r[i]};
      ASSERT_EQ(bad, 0) << "int8 fast kernel " << fast->op_infos()[0].kernel << " must be bit-exact";
    } else {
      const auto* r = static_cast<const float*>(ref->output_data(0));
      const auto* f = static_cast<const float*>(fast->output_data(0));
      // 1e-5 relative, plus a floor for cancellation: float sums of `taps` terms in another
      // order differ by about eps * sqrt(taps) * rms(output).
      const TensorDesc& filter = g->tensors[g->ops[0].inputs[1]];
      const double taps = static_cast<double>(filter.num_elements()) / filter.shape[g->ops[0].type == OpType::kConv2D ? 0 : 3];
      double sq = 0.0;
      for (int64_t i = 0; i < n; ++i) sq += static_cast<double>(r[i]) * r[i];
      const double floor = 1e-6 * std::sqrt(taps) * std::sqrt(sq / static_cast<double>(n)) + 1e-7;
      int64_t bad = 0;
      for (int64_t i = 0; i < n; ++i)
        if (!(std::fabs(r[i] - f[i]) <= 1e-5 * std::fabs(r[i]) + floor) && ++bad <= 3)
          ADD_FAILURE() << "output " << i << ": fast " << f[i] << ", reference " << r[i];
      ASSERT_EQ(bad, 0) << "float fast kernel " << fast->op_infos()[0].kernel;
    }
  }
  // On an AVX2+FMA machine most of these geometries must really run a fast kernel.
  if (CpuHasAvx2Fma()) {
    EXPECT_GE(fast_used, 30) << "only " << fast_used << " of 60 graphs got a fast kernel";
  }
}

TEST(Interpreter, OneAndTwoThreadsAgree) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 30; ++trial) {
    const auto g = RandomConvGraph(rng, trial % 2 ? DType::kFloat32 : DType::kInt8, trial % 4 >= 2);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + Describe(*g));
    auto one = MustCreate(g, {.num_threads = 1, .kernels = KernelSet::kFast});
    auto two = MustCreate(g, {.num_threads = 2, .kernels = KernelSet::kFast});
    ASSERT_TRUE(one && two);
    FillRandomInput(rng, *one);
    std::memcpy(two->input_data(0), one->input_data(0), one->input_desc(0).num_bytes());
    one->Invoke();
    two->Invoke();
    ASSERT_EQ(OutputBytes(*one), OutputBytes(*two));
    // The same interpreter switched to 2 threads.
    std::memcpy(one->input_data(0), two->input_data(0), two->input_desc(0).num_bytes());
    one->set_num_threads(2);
    one->Invoke();
    ASSERT_EQ(OutputBytes(*one), OutputBytes(*two));
  }
}

// ---- Create() errors ------------------------------------------------------------------

void ExpectCreateError(std::shared_ptr<const Graph> g, const std::string& prefix, const std::string& fragment) {
  for (KernelSet ks : {KernelSet::kReference, KernelSet::kFast}) {
    auto it = Interpreter::Create(g, {.kernels = ks});
    ASSERT_FALSE(it.ok()) << "expected an error starting with '" << prefix << "'";
    const std::string m = it.status().message();
    EXPECT_EQ(m.rfind(prefix, 0), 0u) << m;
    EXPECT_NE(m.find(fragment), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "error must be one line: " << m;
  }
}

TEST(InterpreterErrors, WrongBiasType) {
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 5, 5, 3}, {0.02f}, {0});
  const int w = b.Const<int8_t>(DType::kInt8, {4, 3, 3, 3}, std::vector<int8_t>(108, 1), {0.01f}, {0});
  const int bias = b.Const<float>(DType::kFloat32, {4}, std::vector<float>(4, 0.5f));
  const int out = b.Tensor(DType::kInt8, {1, 3, 3, 4}, {0.05f}, {0});
  b.Op(OpType::kConv2D, {in, w, bias}, {out}).Inputs({in}).Outputs({out});
  ExpectCreateError(b.Build(), "operator 0 (CONV_2D): ", "bias must be int32");
}

TEST(InterpreterErrors, Int8SoftmaxOutputScaleMustBeOneOver256) {
  for (const auto& [scale, zp] : {std::pair<float, int32_t>{1.0f / 255, -128}, {1.0f / 256, 0}}) {
    GraphBuilder b;
    const int in = b.Tensor(DType::kInt8, {1, 10}, {0.1f}, {0});
    const int out = b.Tensor(DType::kInt8, {1, 10}, {scale}, {zp});
    b.Op(OpType::kSoftmax, {in}, {out}).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 0 (SOFTMAX): ", "1/256");
  }
}

TEST(InterpreterErrors, GroupedConvolutionFilter) {
  GraphBuilder b;
  const int in = b.Tensor(DType::kFloat32, {1, 5, 5, 4});
  const int w = b.Const<float>(DType::kFloat32, {6, 3, 3, 2}, std::vector<float>(108, 0.1f));  // 2 groups of 2 channels
  const int out = b.Tensor(DType::kFloat32, {1, 3, 3, 6});
  b.Op(OpType::kConv2D, {in, w}, {out}).Inputs({in}).Outputs({out});
  ExpectCreateError(b.Build(), "operator 0 (CONV_2D): ", "grouped convolution not supported");
}

TEST(InterpreterErrors, MismatchingShapesNameTheFailingOperator) {
  {  // CONV_2D output spatial size disagrees with VALID 3x3 on 5x5 (3x3 expected).
    GraphBuilder b;
    const int in = b.Tensor(DType::kFloat32, {1, 5, 5, 3});
    const int w = b.Const<float>(DType::kFloat32, {4, 3, 3, 3}, std::vector<float>(108, 0.1f));
    const int out = b.Tensor(DType::kFloat32, {1, 5, 5, 4});
    b.Op(OpType::kConv2D, {in, w}, {out}).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 0 (CONV_2D): ", "output shape [1,5,5,4]");
  }
  {  // The second op fails: ADD of [1,5,5,3] and [4].
    GraphBuilder b;
    const int in = b.Tensor(DType::kFloat32, {1, 5, 5, 3});
    const int t = b.Tensor(DType::kFloat32, {1, 5, 5, 3});
    const int c = b.Const<float>(DType::kFloat32, {4}, std::vector<float>(4, 1.0f));
    const int out = b.Tensor(DType::kFloat32, {1, 5, 5, 3});
    b.Op(OpType::kLogistic, {in}, {t}).Op(OpType::kAdd, {t, c}, {out}).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 1 (ADD): ", "do not broadcast");
  }
  {  // FULLY_CONNECTED output holds the wrong number of units.
    GraphBuilder b;
    const int in = b.Tensor(DType::kFloat32, {2, 17});
    const int w = b.Const<float>(DType::kFloat32, {5, 17}, std::vector<float>(85, 0.1f));
    const int out = b.Tensor(DType::kFloat32, {2, 6});
    b.Op(OpType::kFullyConnected, {in, w}, {out}).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 0 (FULLY_CONNECTED): ", "output [2,6]");
  }
  {  // DEPTHWISE filter channels do not fit the input.
    GraphBuilder b;
    const int in = b.Tensor(DType::kFloat32, {1, 5, 5, 3});
    const int w = b.Const<float>(DType::kFloat32, {1, 3, 3, 5}, std::vector<float>(45, 0.1f));
    const int out = b.Tensor(DType::kFloat32, {1, 3, 3, 5});
    b.Op(OpType::kDepthwiseConv2D, {in, w}, {out}).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 0 (DEPTHWISE_CONV_2D): ", "does not fit");
  }
  {  // RESHAPE to a different element count.
    GraphBuilder b;
    const int in = b.Tensor(DType::kInt8, {1, 5, 7, 3}, {0.1f}, {0});
    const int out = b.Tensor(DType::kInt8, {1, 100}, {0.1f}, {0});
    b.Op(OpType::kReshape, {in}, {out}).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 0 (RESHAPE): ", "cannot reshape");
  }
  {  // PAD output disagrees with the paddings.
    GraphBuilder b;
    const int in = b.Tensor(DType::kFloat32, {1, 3, 3, 1});
    const int pads = b.Const<int32_t>(DType::kInt32, {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0});
    const int out = b.Tensor(DType::kFloat32, {1, 5, 6, 1});
    b.Op(OpType::kPad, {in, pads}, {out}).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 0 (PAD): ", "disagrees with paddings");
  }
}

TEST(InterpreterErrors, Int8OpsRejectInconsistentQuantization) {
  {  // Per-channel filter scales that match neither 1 nor the output channel count (here
     // along the input-channel axis, which the tensor itself allows).
    GraphBuilder b;
    const int in = b.Tensor(DType::kInt8, {1, 3, 3, 2}, {0.02f}, {0});
    const int w = b.Const<int8_t>(DType::kInt8, {3, 1, 1, 2}, std::vector<int8_t>(6, 1), {0.1f, 0.2f}, {0, 0}, 3);
    const int out = b.Tensor(DType::kInt8, {1, 3, 3, 3}, {0.05f}, {0});
    b.Op(OpType::kConv2D, {in, w}, {out}).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 0 (CONV_2D): ", "2 scales for 3 output channels");
  }
  {  // int8 pooling must keep the quantization.
    GraphBuilder b;
    const int in = b.Tensor(DType::kInt8, {1, 4, 4, 2}, {0.02f}, {0});
    const int out = b.Tensor(DType::kInt8, {1, 2, 2, 2}, {0.03f}, {0});
    OpOptions o;
    o.filter_h = o.filter_w = o.stride_h = o.stride_w = 2;
    b.Op(OpType::kMaxPool2D, {in}, {out}, o).Inputs({in}).Outputs({out});
    ExpectCreateError(b.Build(), "operator 0 (MAX_POOL_2D): ", "equal input and output quantization");
  }
}

}  // namespace
}  // namespace personcls
