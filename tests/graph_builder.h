// A small fluent builder of in-memory Graphs for tests: tensors, constants, ops.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "personcls/graph.h"

namespace personcls::testing {

class GraphBuilder {
 public:
  // An activation tensor; returns its index.
  int Tensor(DType type, std::vector<int32_t> shape, std::vector<float> scale = {}, std::vector<int32_t> zero_point = {}, int axis = 0) {
    TensorDesc t;
    t.name = "t" + std::to_string(graph_.tensors.size());
    t.dtype = type;
    t.shape = std::move(shape);
    t.quant.scale = std::move(scale);
    t.quant.zero_point = std::move(zero_point);
    if (t.quant.zero_point.empty()) t.quant.zero_point.assign(t.quant.scale.size(), 0);
    t.quant.axis = axis;
    graph_.tensors.push_back(std::move(t));
    return static_cast<int>(graph_.tensors.size()) - 1;
  }
  // A constant tensor holding a copy of `values`.
  template <typename T>
  int Const(DType type, std::vector<int32_t> shape, const std::vector<T>& values, std::vector<float> scale = {},
            std::vector<int32_t> zero_point = {}, int axis = 0) {
    const int index = Tensor(type, std::move(shape), std::move(scale), std::move(zero_point), axis);
    auto storage = std::shared_ptr<uint8_t[]>(new uint8_t[values.size() * sizeof(T) + 16]());
    std::memcpy(storage.get(), values.data(), values.size() * sizeof(T));
    graph_.tensors[index].data = storage.get();
    graph_.storage.push_back(std::shared_ptr<const void>(storage, storage.get()));
    return index;
  }
  GraphBuilder& Op(OpType type, std::vector<int> inputs, std::vector<int> outputs, OpOptions options = {}, int version = 1) {
    OpDesc op;
    op.type = type;
    op.inputs = std::move(inputs);
    op.outputs = std::move(outputs);
    op.options = options;
    op.version = version;
    graph_.ops.push_back(std::move(op));
    return *this;
  }
  GraphBuilder& Inputs(std::vector<int> inputs) {
    graph_.inputs = std::move(inputs);
    return *this;
  }
  GraphBuilder& Outputs(std::vector<int> outputs) {
    graph_.outputs = std::move(outputs);
    return *this;
  }
  Graph& graph() { return graph_; }
  std::shared_ptr<const Graph> Build() { return std::make_shared<Graph>(graph_); }

 private:
  Graph graph_;
};

// A tiny valid int8 model: input [1,4,4,2] (scale 0.02, zp -3) -> CONV_2D 1x1 (3 filters,
// per-channel scales, ReLU) -> MEAN over H,W -> SOFTMAX [1,3] (scale 1/256, zp -128).
// Used by the TFLite reader tests and as a fuzz seed.
inline Graph TinyInt8Graph() {
  GraphBuilder b;
  const int in = b.Tensor(DType::kInt8, {1, 4, 4, 2}, {0.02f}, {-3});
  const int w = b.Const<int8_t>(DType::kInt8, {3, 1, 1, 2}, {1, -2, 3, 4, -5, 6}, {0.01f, 0.02f, 0.03f}, {0, 0, 0}, 0);
  const int bias = b.Const<int32_t>(DType::kInt32, {3}, {10, -20, 30}, {0.0002f, 0.0004f, 0.0006f}, {0, 0, 0});
  const int conv = b.Tensor(DType::kInt8, {1, 4, 4, 3}, {0.05f}, {2});
  const int axes = b.Const<int32_t>(DType::kInt32, {2}, {1, 2});
  const int mean = b.Tensor(DType::kInt8, {1, 3}, {0.04f}, {1});
  const int prob = b.Tensor(DType::kInt8, {1, 3}, {1.0f / 256}, {-128});
  OpOptions conv_opts;
  conv_opts.activation = Activation::kRelu;
  b.Op(OpType::kConv2D, {in, w, bias}, {conv}, conv_opts, 3).Op(OpType::kMean, {conv, axes}, {mean}).Op(OpType::kSoftmax, {mean}, {prob});
  b.Inputs({in}).Outputs({prob});
  return b.graph();
}

}  // namespace personcls::testing
