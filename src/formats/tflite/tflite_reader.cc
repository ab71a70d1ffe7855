#include "formats/tflite/tflite_reader.h"

#include <cstring>

#include "formats/tflite/schema_generated.h"
#include "runtime/tflite_model.h"

namespace personcls::tflite_format {
namespace {

Status Fail(const std::string& name, const std::string& what) { return Status::Error(name + ": " + what); }

TensorDesc ToDesc(const TensorView& v, Graph& graph) {
  TensorDesc t;
  t.name = v.name;
  t.dtype = v.dtype;
  t.shape.assign(v.dims, v.dims + v.rank);
  for (int i = 0; i < v.num_scales; ++i) {
    t.quant.scale.push_back(v.scale(i));
    t.quant.zero_point.push_back(v.zero_point(i));
  }
  t.quant.axis = v.num_scales > 0 ? v.quant_axis : 0;
  const uint8_t* p = v.data;
  if (p && reinterpret_cast<uintptr_t>(p) % 16 != 0) {
    // Writers align buffers to 16 bytes; copy the rare unaligned one (Graph promises 16).
    const size_t size = static_cast<size_t>(v.num_bytes());
    uint8_t* aligned = graph.AllocateConstant(size);
    std::memcpy(aligned, p, size);
    p = aligned;
  }
  t.data = p;
  return t;
}

}  // namespace

Expected<Graph> ReadTflite(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  DiagText d;
  TfliteModel model;
  if (!model.Init(bytes->data(), bytes->size(), d)) return Fail(name, d.message());

  Graph graph;
  graph.storage.push_back(bytes);
  graph.description = model.description();
  const int num_tensors = model.num_tensors();
  graph.tensors.reserve(num_tensors);
  TensorView v;
  for (int i = 0; i < num_tensors; ++i) {
    if (!model.ReadTensor(i, v, d)) return Fail(name, "tensor " + std::to_string(i) + " '" + v.name + "': " + d.message());
    graph.tensors.push_back(ToDesc(v, graph));
  }
  for (int i = 0; i < model.num_inputs(); ++i) graph.inputs.push_back(model.input(i));
  for (int i = 0; i < model.num_outputs(); ++i) graph.outputs.push_back(model.output(i));

  if (model.num_ops() == 0) return Fail(name, "subgraph has no operators");
  OpView view;
  for (int k = 0; k < model.num_ops(); ++k) {
    if (!model.ReadOp(k, view, d)) return Fail(name, d.message());
    OpDesc op;
    op.type = view.type;
    op.version = view.version;
    op.inputs.assign(view.inputs, view.inputs + view.num_inputs);
    op.outputs.assign(view.outputs, view.outputs + view.num_outputs);
    op.options = view.options;
    graph.ops.push_back(std::move(op));
  }

  const tflite::Model* fb = model.model();
  if (fb->metadata() && fb->buffers()) {
    for (const tflite::Metadata* m : *fb->metadata()) {
      if (!m || !m->name()) continue;
      if (m->buffer() >= fb->buffers()->size()) return Fail(name, "metadata '" + m->name()->str() + "': buffer index out of range");
      const tflite::Buffer* b = fb->buffers()->Get(m->buffer());
      std::vector<uint8_t> value;
      if (b && b->data()) value.assign(b->data()->begin(), b->data()->end());
      graph.metadata[m->name()->str()] = std::move(value);
    }
  }
  return graph;
}

}  // namespace personcls::tflite_format
