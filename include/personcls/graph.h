// Graph: personcls's in-memory description of an inference model, independent of the
// file format it came from (TFLite today; ONNX and our own checkpoints later).
//
// Ownership: a Graph owns (through `storage`) every byte that its constant tensors point
// at, so a Graph can be moved and shared freely; an Interpreter keeps a shared_ptr to the
// Graph it runs. Shapes are static (batch included); layouts are TFLite's: activations
// NHWC, conv filters OHWI, depthwise filters 1HW(C*M), fully-connected weights [out, in].
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "personcls/types.h"

namespace personcls {

struct QuantParams {
  std::vector<float> scale;         // empty: not quantized; 1: per tensor; N: per channel
  std::vector<int32_t> zero_point;  // same length as scale
  int axis = 0;                     // channel axis of per-channel quantization

  bool empty() const { return scale.empty(); }
  bool per_channel() const { return scale.size() > 1; }
};

struct TensorDesc {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int32_t> shape;
  QuantParams quant;
  // Constant data (weights, biases, shape operands) or nullptr for activations. Points
  // into Graph::storage; aligned to at least 16 bytes.
  const uint8_t* data = nullptr;

  bool is_constant() const { return data != nullptr; }
  int64_t num_elements() const;
  int64_t num_bytes() const { return num_elements() * static_cast<int64_t>(DTypeSize(dtype)); }
};

struct OpDesc {
  OpType type = OpType::kAdd;
  int version = 1;
  std::vector<int> inputs;   // tensor indices; -1 = optional input left out
  std::vector<int> outputs;  // tensor indices
  OpOptions options;
};

struct Graph {
  std::vector<TensorDesc> tensors;
  std::vector<OpDesc> ops;  // in execution order
  std::vector<int> inputs;  // graph input tensor indices
  std::vector<int> outputs;
  std::string description;                                // producer text from the file
  std::map<std::string, std::vector<uint8_t>> metadata;   // name -> bytes (copied)
  std::vector<std::shared_ptr<const void>> storage;       // owners of constant data

  int64_t ParameterCount() const;  // elements of all constant tensors except shape operands

  // `bytes` zeroed bytes, 16-byte aligned, owned by `storage` (for constant tensor data).
  uint8_t* AllocateConstant(size_t bytes);
  // Appends a constant tensor holding a 16-byte aligned copy of `data` (`size` bytes, owned
  // by `storage`); returns its index.
  int AddConstant(std::string name, DType dtype, std::vector<int32_t> shape, const void* data, size_t size);
  // Appends an op (executed after the ops already present); returns its index.
  int AddOp(OpType type, std::vector<int> op_inputs, std::vector<int> op_outputs, OpOptions options = {});
};

}  // namespace personcls
