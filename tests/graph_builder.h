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

}  // namespace personcls::testing
