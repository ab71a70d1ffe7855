#include "formats/onnx/onnx_writer.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "formats/onnx/onnx_layout.h"

namespace personcls::onnx_format {
namespace {

// Opset 13 came with IR version 7; every ONNX runtime since 2020 reads it.
constexpr int64_t kIrVersion = 7;

// ONNX shape of a personcls tensor: 4-D activations are NCHW, everything else as is.
std::vector<int64_t> OnnxShape(const std::vector<int32_t>& shape) {
  std::vector<int64_t> s(shape.begin(), shape.end());
  if (s.size() == 4) s = {s[0], s[3], s[1], s[2]};
  return s;
}

std::array<int64_t, 4> Shape4(const std::vector<int32_t>& s) { return {s[0], s[1], s[2], s[3]}; }

// Values of an int32 or int64 constant (axes, paddings).
std::vector<int64_t> IntValues(const TensorDesc& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.num_elements()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t.dtype == DType::kInt64) {
      std::memcpy(&v[i], t.data + 8 * i, 8);
    } else {
      int32_t x;
      std::memcpy(&x, t.data + 4 * i, 4);
      v[i] = x;
    }
  }
  return v;
}

void SetInts(onnx::NodeProto* node, const char* name, const std::vector<int64_t>& values) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

void SetInt(onnx::NodeProto* node, const char* name, int64_t value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void SetValueInfo(onnx::ValueInfoProto* info, const std::string& name, const std::vector<int64_t>& shape) {
  info->set_name(name);
  auto* tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tensor_type->mutable_shape()->add_dim()->set_dim_value(d);
}

// A PAD folded into the conv that reads its output: the conv reads `source` instead.
struct FoldedPad {
  int source = -1;
  int64_t top = 0, bottom = 0, left = 0, right = 0;
};

class Writer {
 public:
  Writer(const Graph& graph, onnx::GraphProto* proto) : g_(graph), gp_(proto) {}

  Status Run() {
    PCLS_RETURN_IF_ERROR(CheckTypes());
    AssignNames();
    CountConsumers();
    for (int in : g_.inputs) SetValueInfo(gp_->add_input(), name_[in], OnnxShape(g_.tensors[in].shape));
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      Status s = WriteOp(i, g_.ops[i]);
      if (!s.ok()) return Status::Error("op " + std::to_string(i) + " (" + OpTypeName(g_.ops[i].type) + "): " + s.message());
    }
    for (int out : g_.outputs) SetValueInfo(gp_->add_output(), name_[out], OnnxShape(g_.tensors[out].shape));
    return Status::Ok();
  }

 private:
  const TensorDesc& T(int index) const { return g_.tensors[index]; }

  Status CheckTypes() const {
    if (g_.inputs.empty() || g_.outputs.empty()) return Status::Error("graph has no inputs or no outputs");
    for (size_t i = 0; i < g_.tensors.size(); ++i) {
      const TensorDesc& t = g_.tensors[i];
      const bool index_operand = t.is_constant() && (t.dtype == DType::kInt32 || t.dtype == DType::kInt64);
      if (t.dtype != DType::kFloat32 && !index_operand)
        return Status::Error("tensor " + std::to_string(i) + " '" + t.name + "' is " + DTypeName(t.dtype) +
                             ": ONNX export takes float32 graphs only (export the float model; int8 graphs are not dequantized)");
    }
    return Status::Ok();
  }

  std::string Fresh(const std::string& base) {
    std::string name = base.empty() ? "t" : base;
    for (int k = 1; used_.count(name); ++k) name = base + "_" + std::to_string(k);
    used_.insert(name);
    return name;
  }

  // "input", "input_1", ...; written with append to dodge a GCC 12 -Wrestrict false alarm.
  static std::string Numbered(const char* prefix, size_t k) {
    std::string name = prefix;
    if (k > 0) name.append("_").append(std::to_string(k));
    return name;
  }

  void AssignNames() {
    name_.assign(g_.tensors.size(), "");
    for (size_t k = 0; k < g_.inputs.size(); ++k) name_[g_.inputs[k]] = Fresh(Numbered("input", k));
    for (size_t k = 0; k < g_.outputs.size(); ++k)
      if (name_[g_.outputs[k]].empty()) name_[g_.outputs[k]] = Fresh(Numbered("output", k));
    for (size_t i = 0; i < g_.tensors.size(); ++i)
      if (name_[i].empty()) name_[i] = Fresh(g_.tensors[i].name.empty() ? Numbered("t", i + 1) : g_.tensors[i].name);
  }

  void CountConsumers() {
    consumers_.assign(g_.tensors.size(), 0);
    consumer_op_.assign(g_.tensors.size(), -1);
    for (size_t i = 0; i < g_.ops.size(); ++i)
      for (int in : g_.ops[i].inputs)
        if (in >= 0) {
          ++consumers_[in];
          consumer_op_[in] = static_cast<int>(i);
        }
    for (int out : g_.outputs) ++consumers_[out];
  }

  onnx::NodeProto* Node(const char* type, const std::vector<std::string>& inputs, const std::string& output) {
    auto* node = gp_->add_node();
    node->set_op_type(type);
    node->set_name(output + "_" + type);
    for (const std::string& in : inputs) node->add_input(in);
    node->add_output(output);
    return node;
  }

  // `tensor` >= 0: the initializer holds (a layout of) that constant and takes its name
  // the first time.
  std::string FloatInit(const std::string& base, const std::vector<int64_t>& dims, const float* data, size_t count, int tensor = -1) {
    auto* t = gp_->add_initializer();
    t->set_name(tensor >= 0 && named_consts_.insert(tensor).second ? name_[tensor] : Fresh(base));
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(data), count * sizeof(float)));
    return t->name();
  }

  std::string Int64Init(const std::string& base, const std::vector<int64_t>& values) {
    auto* t = gp_->add_initializer();
    t->set_name(Fresh(base));
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t)));
    return t->name();
  }

  // A float constant operand as ONNX sees it: 4-D data transposed to NCHW; when the op's
  // output is 4-D, a lower-rank constant first gets leading 1s (numpy broadcasting aligns
  // trailing axes, which would otherwise meet W instead of C).
  std::string ConstOperand(int index, size_t output_rank) {
    const TensorDesc& t = T(index);
    const float* data = reinterpret_cast<const float*>(t.data);
    const size_t n = static_cast<size_t>(t.num_elements());
    if (output_rank != 4 || t.shape.size() > 4) return FloatInit(name_[index], OnnxShape(t.shape), data, n, index);
    std::vector<int32_t> shape4(4 - t.shape.size(), 1);
    shape4.insert(shape4.end(), t.shape.begin(), t.shape.end());
    const std::vector<float> nchw = Permute4D(data, Shape4(shape4), kNhwcToNchw);
    return FloatInit(name_[index], OnnxShape(shape4), nchw.data(), nchw.size(), index);
  }

  std::string Operand(int index, size_t output_rank) { return T(index).is_constant() ? ConstOperand(index, output_rank) : name_[index]; }

  // The node computing `out` writes the returned name; a fused activation then maps it
  // to `out`.
  std::string PreActivation(Activation a, int out) { return a == Activation::kNone ? name_[out] : Fresh(name_[out] + "_linear"); }

  void ApplyActivation(Activation a, const std::string& pre, int out) {
    if (a == Activation::kRelu) {
      Node("Relu", {pre}, name_[out]);
    } else if (a == Activation::kRelu6) {
      if (clip_min_.empty()) {
        const float lo = 0.0f, hi = 6.0f;
        clip_min_ = FloatInit("relu6_min", {}, &lo, 1);
        clip_max_ = FloatInit("relu6_max", {}, &hi, 1);
      }
      Node("Clip", {pre, clip_min_, clip_max_}, name_[out]);
    }
  }

  // The NHWC element order of a 4-D activation (a Transpose when H*W > 1 and C > 1, where
  // the two orders differ); other tensors unchanged.
  std::string InNhwcOrder(int index) {
    const auto& s = T(index).shape;
    if (s.size() != 4 || int64_t{s[1]} * s[2] == 1 || s[3] == 1) return name_[index];
    const std::string name = Fresh(name_[index] + "_nhwc");
    SetInts(Node("Transpose", {name_[index]}, name), "perm", {0, 2, 3, 1});
    return name;
  }

  Status WriteOp(size_t index, const OpDesc& op) {
    const size_t need = op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D || op.type == OpType::kFullyConnected ? 2
                        : op.type == OpType::kAdd || op.type == OpType::kMean || op.type == OpType::kPad           ? 2
                                                                                                                   : 1;
    if (op.inputs.size() < need || op.outputs.size() != 1) return Status::Error("wrong number of inputs or outputs");
    for (size_t k = 0; k < need; ++k)
      if (op.inputs[k] < 0 || op.inputs[k] >= static_cast<int>(g_.tensors.size())) return Status::Error("input index out of range");
    if (op.outputs[0] < 0 || op.outputs[0] >= static_cast<int>(g_.tensors.size())) return Status::Error("output index out of range");
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D: return Conv(op);
      case OpType::kAveragePool2D:
      case OpType::kMaxPool2D: return Pool(op);
      case OpType::kPad: return Pad(index, op);
      case OpType::kMean: return Mean(op);
      case OpType::kReshape: return Reshape(op.inputs[0], op.outputs[0]);
      case OpType::kFullyConnected: return FullyConnected(op);
      case OpType::kAdd: {
        const size_t rank = T(op.outputs[0]).shape.size();
        for (int in : {op.inputs[0], op.inputs[1]})
          if (!T(in).is_constant() && T(in).shape.size() != rank) return Status::Error("inputs of different rank not supported");
        const std::string pre = PreActivation(op.options.activation, op.outputs[0]);
        Node("Add", {Operand(op.inputs[0], rank), Operand(op.inputs[1], rank)}, pre);
        ApplyActivation(op.options.activation, pre, op.outputs[0]);
        return Status::Ok();
      }
      case OpType::kSoftmax: {
        std::string x = name_[op.inputs[0]];
        if (op.options.softmax_beta != 1.0f) {
          const std::string scaled = Fresh(x + "_beta");
          Node("Mul", {x, FloatInit("softmax_beta", {}, &op.options.softmax_beta, 1)}, scaled);
          x = scaled;
        }
        SetInt(Node("Softmax", {x}, name_[op.outputs[0]]), "axis", T(op.inputs[0]).shape.size() == 4 ? 1 : -1);
        return Status::Ok();
      }
      case OpType::kLogistic: Node("Sigmoid", {name_[op.inputs[0]]}, name_[op.outputs[0]]); return Status::Ok();
      case OpType::kQuantize:
      case OpType::kDequantize: return Status::Error("quantization ops have no float32 ONNX form");
    }
    return Status::Error("op not supported by the ONNX writer");
  }

  Status Conv(const OpDesc& op) {
    const TensorDesc& x = T(op.inputs[0]);
    const TensorDesc& w = T(op.inputs[1]);
    const bool depthwise = op.type == OpType::kDepthwiseConv2D;
    if (x.shape.size() != 4 || w.shape.size() != 4 || !w.is_constant()) return Status::Error("needs a 4-D input and constant 4-D filter");
    const OpOptions& o = op.options;
    const int64_t kh = w.shape[1], kw = w.shape[2];
    // OHWI -> OIHW; depthwise 1HW(C*M) -> (C*M)1HW, which is ONNX's grouped layout with
    // group = C (output channel c*M + m reads input channel c, as in TFLite).
    const std::vector<float> oihw = Permute4D(reinterpret_cast<const float*>(w.data), Shape4(w.shape), depthwise ? std::array<int, 4>{3, 0, 1, 2} : kNhwcToNchw);
    const int64_t out_c = depthwise ? w.shape[3] : w.shape[0];
    const int64_t in_per_group = depthwise ? 1 : w.shape[3];
    std::vector<std::string> inputs{name_[op.inputs[0]], FloatInit(name_[op.inputs[1]], {out_c, in_per_group, kh, kw}, oihw.data(), oihw.size(), op.inputs[1])};
    if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
      if (!T(op.inputs[2]).is_constant()) return Status::Error("bias must be constant");
      inputs.push_back(ConstOperand(op.inputs[2], 1));
    }
    std::array<int64_t, 4> pads{};  // ONNX order: top, left, bottom, right
    if (o.padding == Padding::kSame) {
      const auto ph = SamePadding(x.shape[1], kh, o.stride_h, o.dilation_h);
      const auto pw = SamePadding(x.shape[2], kw, o.stride_w, o.dilation_w);
      pads = {ph[0], pw[0], ph[1], pw[1]};
    }
    if (auto it = folded_.find(op.inputs[0]); it != folded_.end()) {
      inputs[0] = name_[it->second.source];
      pads = {pads[0] + it->second.top, pads[1] + it->second.left, pads[2] + it->second.bottom, pads[3] + it->second.right};
    }
    const std::string pre = PreActivation(o.activation, op.outputs[0]);
    auto* node = Node("Conv", inputs, pre);
    SetInts(node, "kernel_shape", {kh, kw});
    SetInts(node, "strides", {o.stride_h, o.stride_w});
    SetInts(node, "dilations", {o.dilation_h, o.dilation_w});
    SetInts(node, "pads", {pads.begin(), pads.end()});
    SetInt(node, "group", depthwise ? x.shape[3] : 1);
    ApplyActivation(o.activation, pre, op.outputs[0]);
    return Status::Ok();
  }

  Status Pool(const OpDesc& op) {
    const TensorDesc& x = T(op.inputs[0]);
    if (x.shape.size() != 4) return Status::Error("needs a 4-D input");
    const OpOptions& o = op.options;
    std::array<int64_t, 4> pads{};
    if (o.padding == Padding::kSame) {
      const auto ph = SamePadding(x.shape[1], o.filter_h, o.stride_h, 1);
      const auto pw = SamePadding(x.shape[2], o.filter_w, o.stride_w, 1);
      pads = {ph[0], pw[0], ph[1], pw[1]};
    }
    const bool average = op.type == OpType::kAveragePool2D;
    const std::string pre = PreActivation(o.activation, op.outputs[0]);
    auto* node = Node(average ? "AveragePool" : "MaxPool", {name_[op.inputs[0]]}, pre);
    SetInts(node, "kernel_shape", {o.filter_h, o.filter_w});
    SetInts(node, "strides", {o.stride_h, o.stride_w});
    SetInts(node, "pads", {pads.begin(), pads.end()});
    if (average) SetInt(node, "count_include_pad", 0);  // TFLite divides by the valid pixels only
    ApplyActivation(o.activation, pre, op.outputs[0]);
    return Status::Ok();
  }

  Status Pad(size_t index, const OpDesc& op) {
    const TensorDesc& x = T(op.inputs[0]);
    const TensorDesc& p = T(op.inputs[1]);
    const size_t rank = x.shape.size();
    if (!p.is_constant() || p.num_elements() != static_cast<int64_t>(2 * rank)) return Status::Error("paddings must be a constant [rank, 2]");
    const std::vector<int64_t> v = IntValues(p);  // [rank, 2] in NHWC axis order
    for (int64_t a : v)
      if (a < 0) return Status::Error("negative padding not supported");
    const int out = op.outputs[0];
    const int next = consumer_op_[out];
    if (rank == 4 && consumers_[out] == 1 && next > static_cast<int>(index) && v[0] == 0 && v[1] == 0 && v[6] == 0 && v[7] == 0) {
      const OpDesc& c = g_.ops[next];
      if ((c.type == OpType::kConv2D || c.type == OpType::kDepthwiseConv2D) && c.options.padding == Padding::kValid && c.inputs[0] == out) {
        folded_[out] = FoldedPad{op.inputs[0], v[2], v[3], v[4], v[5]};
        return Status::Ok();
      }
    }
    std::vector<int64_t> pads(2 * rank);
    for (size_t j = 0; j < rank; ++j) {
      const size_t axis = rank == 4 ? static_cast<size_t>(kNhwcToNchw[j]) : j;  // NHWC axis of ONNX axis j
      pads[j] = v[2 * axis];
      pads[rank + j] = v[2 * axis + 1];
    }
    Node("Pad", {name_[op.inputs[0]], Int64Init(name_[out] + "_pads", pads)}, name_[out]);
    return Status::Ok();
  }

  Status Mean(const OpDesc& op) {
    const TensorDesc& x = T(op.inputs[0]);
    const TensorDesc& a = T(op.inputs[1]);
    if (!a.is_constant()) return Status::Error("axes must be constant");
    const int rank = static_cast<int>(x.shape.size());
    std::set<int> axes;
    for (int64_t v : IntValues(a)) {
      if (v < -rank || v >= rank) return Status::Error("axis out of range");
      axes.insert(static_cast<int>(v < 0 ? v + rank : v));
    }
    const bool keep = op.options.keep_dims;
    const std::string out = name_[op.outputs[0]];
    if (rank == 4 && axes == std::set<int>{1, 2}) {
      // The global average pool of MobileNets: [N,C,H,W] -> [N,C,1,1] (-> [N,C]).
      const std::string pooled = keep ? out : Fresh(out + "_pooled");
      Node("GlobalAveragePool", {name_[op.inputs[0]]}, pooled);
      if (!keep) SetInt(Node("Flatten", {pooled}, out), "axis", 1);
      return Status::Ok();
    }
    std::vector<int64_t> onnx_axes;
    for (int axis : axes) onnx_axes.push_back(rank == 4 ? NhwcAxisToNchw(axis) : axis);
    std::sort(onnx_axes.begin(), onnx_axes.end());
    if (rank == 4 && !keep) {
      // The kept axes must come out in the same order in both layouts.
      int last = -1;
      for (int axis = 0; axis < 4; ++axis) {
        if (axes.count(axis)) continue;
        if (NhwcAxisToNchw(axis) < last) return Status::Error("MEAN without keep_dims over these axes changes the layout");
        last = NhwcAxisToNchw(axis);
      }
    }
    auto* node = Node("ReduceMean", {name_[op.inputs[0]]}, out);
    SetInts(node, "axes", onnx_axes);
    SetInt(node, "keepdims", keep ? 1 : 0);
    return Status::Ok();
  }

  Status Reshape(int in, int out) {
    const auto& target = T(out).shape;
    const std::string x = InNhwcOrder(in);
    const bool transpose_after = target.size() == 4 && int64_t{target[1]} * target[2] != 1 && target[3] != 1;
    if (!transpose_after) {
      Node("Reshape", {x, Int64Init(name_[out] + "_shape", OnnxShape(target))}, name_[out]);
      return Status::Ok();
    }
    const std::string nhwc = Fresh(name_[out] + "_nhwc");
    Node("Reshape", {x, Int64Init(name_[out] + "_shape", {target.begin(), target.end()})}, nhwc);
    SetInts(Node("Transpose", {nhwc}, name_[out]), "perm", {0, 3, 1, 2});
    return Status::Ok();
  }

  Status FullyConnected(const OpDesc& op) {
    const TensorDesc& x = T(op.inputs[0]);
    const TensorDesc& w = T(op.inputs[1]);
    if (w.shape.size() != 2 || !w.is_constant()) return Status::Error("weights must be a constant [units, depth]");
    if (T(op.outputs[0]).shape.size() != 2) return Status::Error("output must be 2-D");
    const int64_t depth = w.shape[1];
    if (depth <= 0 || x.num_elements() % depth != 0) return Status::Error("input size is not a multiple of the weights depth");
    std::string a = name_[op.inputs[0]];
    if (x.shape.size() != 2) {
      // FULLY_CONNECTED flattens its input to [-1, depth] in NHWC order.
      a = Fresh(name_[op.inputs[0]] + "_2d");
      Node("Reshape", {InNhwcOrder(op.inputs[0]), Int64Init(a + "_shape", {x.num_elements() / depth, depth})}, a);
    }
    std::vector<std::string> inputs{a, ConstOperand(op.inputs[1], 2)};
    if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
      if (!T(op.inputs[2]).is_constant()) return Status::Error("bias must be constant");
      inputs.push_back(ConstOperand(op.inputs[2], 2));
    }
    const std::string pre = PreActivation(op.options.activation, op.outputs[0]);
    SetInt(Node("Gemm", inputs, pre), "transB", 1);
    ApplyActivation(op.options.activation, pre, op.outputs[0]);
    return Status::Ok();
  }

  const Graph& g_;
  onnx::GraphProto* gp_;
  std::vector<std::string> name_;  // ONNX value name of each tensor
  std::set<std::string> used_;
  std::set<int> named_consts_;  // constants whose own name an initializer already took
  std::vector<int> consumers_, consumer_op_;
  std::map<int, FoldedPad> folded_;  // PAD output tensor -> what its conv reads instead
  std::string clip_min_, clip_max_;
};

std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

Expected<std::vector<uint8_t>> WriteOnnx(const Graph& graph, const std::string& producer_version) {
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpsetVersion);
  model.set_producer_name("personcls");
  model.set_producer_version(producer_version);
  if (!graph.description.empty()) model.set_doc_string(graph.description);
  for (const auto& [key, value] : graph.metadata) {
    auto* prop = model.add_metadata_props();
    prop->set_key(key);
    prop->set_value(std::string(value.begin(), value.end()));
  }
  auto* gp = model.mutable_graph();
  gp->set_name("personcls");
  PCLS_RETURN_IF_ERROR(Writer(graph, gp).Run());
  try {
    onnx::checker::check_model(model);
    // Strict shape inference: the shapes we declare must be the ones ONNX computes.
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1));
  } catch (const std::exception& e) {
    return Status::Error("the ONNX model written fails onnx::checker: " + OneLine(e.what()));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) return Status::Error("ONNX serialization failed (model over 2 GB?)");
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

}  // namespace personcls::onnx_format
