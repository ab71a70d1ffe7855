#include "personcls/graph.h"

#include <cstdint>
#include <cstring>
#include <set>

namespace personcls {

int64_t TensorDesc::num_elements() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

int64_t Graph::ParameterCount() const {
  // Shape-like operands (new shapes, paddings, reduction axes) are not parameters.
  std::set<int> shape_operands;
  for (const OpDesc& op : ops) {
    if ((op.type == OpType::kReshape || op.type == OpType::kPad || op.type == OpType::kMean) &&
        op.inputs.size() > 1 && op.inputs[1] >= 0)
      shape_operands.insert(op.inputs[1]);
  }
  int64_t count = 0;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].is_constant() && !shape_operands.count(static_cast<int>(i))) count += tensors[i].num_elements();
  return count;
}

uint8_t* Graph::AllocateConstant(size_t bytes) {
  auto block = std::shared_ptr<uint8_t[]>(new uint8_t[bytes + 16]());
  uint8_t* aligned = block.get() + (16 - reinterpret_cast<uintptr_t>(block.get()) % 16) % 16;
  storage.push_back(std::shared_ptr<const void>(block, aligned));
  return aligned;
}

int Graph::AddConstant(std::string name, DType dtype, std::vector<int32_t> shape, const void* data, size_t size) {
  uint8_t* aligned = AllocateConstant(size);
  if (size > 0) std::memcpy(aligned, data, size);
  TensorDesc t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = aligned;
  tensors.push_back(std::move(t));
  return static_cast<int>(tensors.size()) - 1;
}

int Graph::AddOp(OpType type, std::vector<int> op_inputs, std::vector<int> op_outputs, OpOptions options) {
  OpDesc op;
  op.type = type;
  op.inputs = std::move(op_inputs);
  op.outputs = std::move(op_outputs);
  op.options = options;
  ops.push_back(std::move(op));
  return static_cast<int>(ops.size()) - 1;
}

}  // namespace personcls
