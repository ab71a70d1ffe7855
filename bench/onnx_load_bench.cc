// ONNX load time against the node count: a chain of N/2 (Conv 1x1, Relu) pairs on a
// [1,4,8,8] input, parsed and converted (BM_OnnxRead), then also prepared by the
// interpreter (BM_OnnxLoadAndPrepare). Both must grow linearly in N; Google Benchmark's
// complexity fit prints the exponent it sees ("BigO").
//
//   ./build/bench/personcls_bench --benchmark_filter=BM_Onnx
#include <benchmark/benchmark.h>
#include <onnx/onnx_pb.h>

#include <memory>
#include <string>
#include <vector>

#include "formats/onnx/onnx_reader.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"

namespace personcls {
namespace {

// A float32 ONNX model of `nodes` nodes: x [1,4,8,8] -> (Conv 1x1 4->4, Relu) x nodes/2.
std::vector<uint8_t> ChainModel(int nodes) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  auto add_value = [](google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name, std::vector<int64_t> dims) {
    auto* t = list->Add();
    t->set_name(name);
    auto* tt = t->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  add_value(g->mutable_input(), "x", {1, 4, 8, 8});
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {4, 4, 1, 1}) w->add_dims(d);
  for (int i = 0; i < 16; ++i) w->add_float_data(i % 5 == 0 ? 0.5f : 0.1f);
  std::string last = "x";
  for (int i = 0; i < nodes / 2; ++i) {
    const std::string conv = "c" + std::to_string(i), relu = "r" + std::to_string(i);
    auto* c = g->add_node();
    c->set_op_type("Conv");
    c->set_name(conv);
    c->add_input(last);
    c->add_input("w");
    c->add_output(conv);
    auto* r = g->add_node();
    r->set_op_type("Relu");
    r->set_name(relu);
    r->add_input(conv);
    r->add_output(relu);
    last = relu;
  }
  add_value(g->mutable_output(), last, {1, 4, 8, 8});
  std::string bytes;
  m.SerializeToString(&bytes);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

void BM_OnnxRead(benchmark::State& state) {
  const std::vector<uint8_t> bytes = ChainModel(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto graph = onnx_format::ReadOnnx(bytes, "chain.onnx");
    if (!graph.ok()) state.SkipWithError(graph.status().message().c_str());
    benchmark::DoNotOptimize(graph);
  }
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_OnnxRead)->RangeMultiplier(2)->Range(5000, 40000)->Unit(benchmark::kMillisecond)->Complexity();

void BM_OnnxLoadAndPrepare(benchmark::State& state) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(ChainModel(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    auto graph = LoadModelBytes(bytes, "chain.onnx");
    if (!graph.ok()) state.SkipWithError(graph.status().message().c_str());
    auto interpreter = Interpreter::Create(*graph, {.kernels = KernelSet::kReference});
    if (!interpreter.ok()) state.SkipWithError(interpreter.status().message().c_str());
    benchmark::DoNotOptimize(interpreter);
  }
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_OnnxLoadAndPrepare)->RangeMultiplier(2)->Range(5000, 40000)->Unit(benchmark::kMillisecond)->Complexity();

}  // namespace
}  // namespace personcls
