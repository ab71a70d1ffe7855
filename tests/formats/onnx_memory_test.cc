// Memory bounded by the input for ONNX files (src/core/memory_budget.h): sizes declared by
// dims are checked against the data before anything is allocated, protobuf objects live on
// an arena charged to the file's budget, and constants copied per node are charged too.
// Load work is linear in the node count (bench/onnx_load_bench.cc measures the time).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "alloc_probe.h"
#include "core/memory_budget.h"
#include "formats/onnx/onnx_reader.h"
#include "formats/onnx_test_util.h"
#include "personcls/interpreter.h"
#include "test_util.h"

PCLS_DEFINE_ALLOC_PROBE()

namespace personcls {
namespace {

using testing::AddFloats;
using testing::AddNode;
using testing::AddValue;
using testing::AllocationPeakSince;
using testing::MarkAllocations;
using testing::Serialize;
using testing::SetInts;

constexpr int64_t kMiB = int64_t{1} << 20;

// x [1, depth] -> MatMul by `w` [depth, depth] declared by dims, with `data` as its values.
onnx::ModelProto MatMulModel(int64_t depth, const std::string& raw_data) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  AddValue(g->mutable_input(), "x", {1, depth});
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(depth);
  w->add_dims(depth);
  w->set_raw_data(raw_data);
  AddNode(g, "MatMul", {"x", "w"}, "y");
  AddValue(g->mutable_output(), "y", {1, depth});
  return m;
}

TEST(OnnxMemory, DeclaredDimsAreCheckedAgainstTheDataFirst) {
  // [16384, 16384] floats (1 GiB) declared, 4 bytes present: a 100-byte file.
  const auto bytes = Serialize(MatMulModel(16384, std::string(4, '\0')));
  EXPECT_LT(bytes.size(), 200u);
  const auto mark = MarkAllocations();
  auto g = onnx_format::ReadOnnx(bytes, "dims.onnx");
  EXPECT_LT(AllocationPeakSince(mark), 2 * kMiB);
  testing::ExpectErrorLine(g.status(), "dims.onnx", "raw_data holds 4 bytes, dims need 1073741824");
  // The typed field (float_data) is checked the same way.
  onnx::ModelProto m = MatMulModel(16384, "");
  m.mutable_graph()->mutable_initializer(0)->add_float_data(1.0f);
  const auto mark2 = MarkAllocations();
  auto h = onnx_format::ReadOnnx(Serialize(m), "typed.onnx");
  EXPECT_LT(AllocationPeakSince(mark2), 2 * kMiB);
  testing::ExpectErrorLine(h.status(), "typed.onnx", "holds 1 values, dims need 268435456");
}

TEST(OnnxMemory, ProtobufObjectsAreChargedToTheFile) {
  // ModelProto.graph (field 7) holding 1.5M empty NodeProtos (field 1): 2 bytes each on
  // the wire, hundreds of bytes each once parsed.
  const int nodes = 1500000;
  std::vector<uint8_t> bytes = {0x3a};  // field 7, length-delimited
  uint64_t len = 2ull * nodes;
  for (; len >= 0x80; len >>= 7) bytes.push_back(static_cast<uint8_t>((len & 0x7f) | 0x80));
  bytes.push_back(static_cast<uint8_t>(len));
  for (int i = 0; i < nodes; ++i) bytes.insert(bytes.end(), {0x0a, 0x00});
  onnx::ModelProto check;
  ASSERT_TRUE(check.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  ASSERT_EQ(check.graph().node_size(), nodes);
  check.Clear();
  const MemoryBudget budget(bytes.size());
  const auto mark = MarkAllocations();
  auto g = onnx_format::ReadOnnx(bytes, "nodes.onnx");
  EXPECT_LT(AllocationPeakSince(mark), static_cast<int64_t>(budget.limit()) + 8 * kMiB);
  testing::ExpectErrorLine(g.status(), "nodes.onnx", "protobuf objects of the model needs");
}

TEST(OnnxMemory, ConstantsCopiedPerNodeAreCharged) {
  // One 3x3 64->64 Conv weight (147 KiB) read by 600 Conv nodes: each node copies (and
  // permutes) it into the Graph, 86 MiB from a file of about 170 KiB.
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  AddValue(g->mutable_input(), "x", {1, 64, 4, 4});
  AddFloats(g, "w", {64, 64, 3, 3}, std::vector<float>(64 * 64 * 9, 0.01f));
  std::string last = "x";
  for (int i = 0; i < 600; ++i) {
    const std::string out = "c" + std::to_string(i);
    SetInts(AddNode(g, "Conv", {last, "w"}, out), "pads", {1, 1, 1, 1});
    last = out;
  }
  AddValue(g->mutable_output(), last, {1, 64, 4, 4});
  const auto bytes = Serialize(m);
  const MemoryBudget budget(bytes.size());
  const auto mark = MarkAllocations();
  auto graph = onnx_format::ReadOnnx(bytes, "copies.onnx");
  EXPECT_LT(AllocationPeakSince(mark), static_cast<int64_t>(budget.limit()) + 8 * kMiB);
  testing::ExpectErrorLine(graph.status(), "copies.onnx", "constant 'w' needs 147456 bytes, past the memory limit of this file");

  // 40 such nodes are fine (5.6 MiB of constants).
  g->mutable_node()->DeleteSubrange(40, 560);
  g->mutable_output(0)->set_name("c39");
  auto small = onnx_format::ReadOnnx(Serialize(m), "forty.onnx");
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_EQ(small->ops.size(), 40u);
}

TEST(OnnxMemory, LongChainsLoadAndRun) {
  // 60,000 nodes (Conv 1x1 + Relu pairs): load, prepare and run; each pair doubles its
  // input (weights 2 on the diagonal), through ReLU, so the output is x * 2^k capped by
  // float range: checked on a chain short enough to stay finite, then the long one runs.
  for (int pairs : {30, 30000}) {
    onnx::ModelProto m;
    m.set_ir_version(7);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    AddValue(g->mutable_input(), "x", {1, 2, 3, 3});
    AddFloats(g, "w", {2, 2, 1, 1}, {pairs > 100 ? 1.0f : 2.0f, 0, 0, pairs > 100 ? 1.0f : 2.0f});
    std::string last = "x";
    for (int i = 0; i < pairs; ++i) {
      AddNode(g, "Conv", {last, "w"}, "c" + std::to_string(i));
      AddNode(g, "Relu", {"c" + std::to_string(i)}, "r" + std::to_string(i));
      last = "r" + std::to_string(i);
    }
    AddValue(g->mutable_output(), last, {1, 2, 3, 3});
    auto graph = onnx_format::ReadOnnx(Serialize(m), "chain.onnx");
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    ASSERT_EQ(graph->ops.size(), static_cast<size_t>(pairs));  // each Relu fused into its Conv
    auto it = Interpreter::Create(std::make_shared<Graph>(std::move(graph).value()), {.kernels = KernelSet::kReference});
    ASSERT_TRUE(it.ok()) << it.status().message();
    float x[18];
    for (int i = 0; i < 18; ++i) x[i] = static_cast<float>(i % 5) - 1.0f;  // NHWC
    std::copy(x, x + 18, static_cast<float*>((*it)->input_data(0)));
    (*it)->Invoke();  // the input's arena space is reused along the chain
    const float* out = static_cast<const float*>((*it)->output_data(0));
    const float gain = pairs > 100 ? 1.0f : std::ldexp(1.0f, pairs);
    for (int i = 0; i < 18; ++i) EXPECT_EQ(out[i], std::max(0.0f, x[i]) * gain) << i;
  }
}

}  // namespace
}  // namespace personcls
