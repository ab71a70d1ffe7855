#include "formats/onnx/onnx_reader.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <google/protobuf/arena.h>

#include "core/memory_budget.h"
#include "formats/onnx/onnx_layout.h"
#include "formats/onnx/onnx_proto.h"

namespace personcls::onnx_format {
namespace {

// Opsets whose attribute forms of these ops we read (Clip/Pad take inputs from 11 on;
// ReduceMean takes its axes as an input from 18 on).
constexpr int64_t kMinOpset = 11, kMaxOpset = 17;
constexpr int kMaxNodes = 100000;
constexpr int64_t kMaxWindow = 1024;  // kernel, stride, dilation and padding limit

// The file's memory budget refused an allocation (thrown from deep inside protobuf's
// arena or the reader, caught in ReadOnnx).
struct BudgetExceeded : std::bad_alloc {
  explicit BudgetExceeded(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
};

// The parsed ModelProto lives on an arena whose blocks are charged to the budget of the
// file being read: protobuf objects (nodes, attributes, repeated fields) can be far larger
// than their encoding (an empty NodeProto is 2 bytes on the wire), so without this a small
// file could expand without bound. String payloads (raw_data) are not on the arena; they
// are no larger than the file.
thread_local MemoryBudget* arena_budget = nullptr;

void* BudgetedBlockAlloc(size_t size) {
  if (arena_budget == nullptr || !arena_budget->TryTake(size))
    throw BudgetExceeded(arena_budget ? arena_budget->RefusalMessage(size, "protobuf objects of the model") : "no budget");
  return ::operator new(size);
}

void BudgetedBlockDealloc(void* p, size_t) { ::operator delete(p); }

// An ONNX value as the reader sees it: a Graph activation or an initializer.
struct Value {
  int tensor = -1;                          // Graph tensor; -1 for initializers
  const onnx::TensorProto* init = nullptr;  // set for initializers
  std::vector<int64_t> shape;               // ONNX (logical) shape
  bool nhwc = false;                        // 4-D activation stored NHWC (ONNX shape NCHW)
  float scale = 1.0f;                       // a Mul by a scalar waiting for its Softmax (beta)
  int producer = -1;                        // Graph op that writes it
};

// NCHW axis -> position in NHWC (inverse of NhwcAxisToNchw).
int NchwAxisToNhwc(int64_t axis) { return axis == 0 ? 0 : axis == 1 ? 3 : static_cast<int>(axis) - 1; }

// For a 4-D NCHW shape, whether NCHW and NHWC orders of the data coincide.
bool OrdersAgree(const std::vector<int64_t>& s) { return s.size() != 4 || s[2] * s[3] == 1 || s[1] == 1; }

std::vector<int32_t> Physical(const std::vector<int64_t>& shape, bool nhwc) {
  std::vector<int32_t> s(shape.begin(), shape.end());
  if (nhwc) s = {s[0], s[2], s[3], s[1]};
  return s;
}

Expected<std::vector<int64_t>> Broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t x = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t y = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (x != y && x != 1 && y != 1) return Status::Error("shapes do not broadcast");
    out[i] = x == 1 ? y : x;
  }
  return out;
}

Status CheckWindow(const std::vector<int64_t>& v, size_t size, int64_t lo, const char* what) {
  if (v.size() != size) return Status::Error(std::string(what) + " must have " + std::to_string(size) + " values");
  for (int64_t x : v)
    if (x < lo || x > kMaxWindow) return Status::Error(std::string(what) + " value " + std::to_string(x) + " out of range");
  return Status::Ok();
}

class Reader {
 public:
  Reader(const onnx::ModelProto& model, Graph& graph, MemoryBudget& budget) : m_(model), g_(graph), budget_(budget) {}

  Status Run() {
    int64_t opset = -1;
    for (const auto& o : m_.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
    if (opset < kMinOpset || opset > kMaxOpset)
      return Status::Error("opset " + std::to_string(opset) + " not supported (default domain " + std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset) + ")");
    opset_ = opset;
    const onnx::GraphProto& gp = m_.graph();
    if (gp.node_size() == 0) return Status::Error("graph has no nodes");
    if (gp.node_size() > kMaxNodes) return Status::Error("graph has too many nodes");
    for (const auto& init : gp.initializer()) {
      auto dims = CheckedDims(init);
      if (!dims.ok()) return dims.status().WithContext("initializer '" + init.name() + "'");
      Value v;
      v.init = &init;
      v.shape = std::move(dims).value();
      PCLS_RETURN_IF_ERROR(Define(init.name(), std::move(v)).WithContext("initializer"));
    }
    // One pass over the nodes: readers of each value, and whether all of a value's readers
    // are NHWC -> NCHW Transposes (for the graph inputs). Everything after is a lookup, so
    // the load is linear in the node count.
    for (const auto& node : gp.node()) {
      bool to_nchw = false;
      if (node.op_type() == "Transpose") {
        auto perm = Attributes(node).Ints("perm", {});
        to_nchw = perm.ok() && *perm == std::vector<int64_t>{0, 3, 1, 2};
      }
      for (const auto& in : node.input()) {
        ++consumers_[in];
        if (!to_nchw) read_otherwise_.insert(in);
      }
    }
    for (const auto& in : gp.input()) {
      if (auto it = values_.find(in.name()); it != values_.end() && it->second.init) continue;  // IR < 4 lists initializers as inputs
      PCLS_RETURN_IF_ERROR(ReadInput(in).WithContext("input '" + in.name() + "'"));
    }
    if (g_.inputs.empty()) return Status::Error("graph has no inputs");
    for (const auto& out : gp.output()) ++consumers_[out.name()];
    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& node = gp.node(i);
      Status s = Node(node);
      if (!s.ok()) return Status::Error("node " + std::to_string(i) + " '" + node.name() + "' (" + node.op_type() + "): " + s.message());
    }
    for (const auto& out : gp.output()) {
      auto it = values_.find(out.name());
      if (it == values_.end() || it->second.tensor < 0 || it->second.scale != 1.0f)
        return Status::Error("output '" + out.name() + "' is not computed by any node");
      g_.outputs.push_back(it->second.tensor);
    }
    if (g_.outputs.empty()) return Status::Error("graph has no outputs");
    if (g_.ops.empty()) return Status::Error("graph computes nothing (only Identity, Transpose or Constant nodes)");
    for (const auto& p : m_.metadata_props()) g_.metadata[p.key()] = std::vector<uint8_t>(p.value().begin(), p.value().end());
    g_.description = !m_.doc_string().empty() ? m_.doc_string() : m_.producer_name() + (m_.producer_version().empty() ? "" : " " + m_.producer_version());
    return Status::Ok();
  }

 private:
  Status Define(const std::string& name, Value v) {
    if (name.empty()) return Status::Error("value without a name");
    if (!values_.emplace(name, std::move(v)).second) return Status::Error("value '" + name + "' defined twice");
    return Status::Ok();
  }

  Status ReadInput(const onnx::ValueInfoProto& in) {
    if (!in.type().has_tensor_type() || in.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
      return Status::Error("must be a float32 tensor");
    if (!in.type().tensor_type().has_shape()) return Status::Error("has no shape");
    const auto& dims = in.type().tensor_type().shape().dim();
    if (dims.size() < 1 || dims.size() > 4) return Status::Error("rank must be 1..4");
    std::vector<int64_t> shape;
    for (int k = 0; k < dims.size(); ++k) {
      const auto& d = dims.Get(k);
      // A symbolic batch dimension runs with batch 1; other dimensions must be static.
      if (k == 0 && !d.has_dim_value()) {
        shape.push_back(1);
        continue;
      }
      if (!d.has_dim_value() || d.dim_value() < 1 || d.dim_value() > kMaxElements) return Status::Error("dimension " + std::to_string(k) + " must be static and positive");
      shape.push_back(d.dim_value());
    }
    if (NumElements(shape) > kMaxElements) return Status::Error("too many elements");
    // A 4-D input is NCHW unless only NHWC -> NCHW Transposes read it (tf2onnx's form);
    // either way the Graph input is NHWC.
    const bool nhwc = shape.size() == 4 && !OnlyReadByToNchwTransposes(in.name());
    const int t = NewTensor(in.name(), shape, nhwc);
    g_.inputs.push_back(t);
    Value v;
    v.tensor = t;
    v.shape = shape;
    v.nhwc = nhwc;
    return Define(in.name(), std::move(v));
  }

  // Counted before any output is added to consumers_ (see Run).
  bool OnlyReadByToNchwTransposes(const std::string& name) const {
    auto it = consumers_.find(name);
    return it != consumers_.end() && it->second > 0 && !read_otherwise_.count(name);
  }

  int NewTensor(const std::string& name, const std::vector<int64_t>& shape, bool nhwc) {
    TensorDesc t;
    t.name = name;
    t.shape = Physical(shape, nhwc);
    g_.tensors.push_back(std::move(t));
    return static_cast<int>(g_.tensors.size()) - 1;
  }

  // Constants are copies: many nodes reading one big initializer must not multiply it
  // past the file's budget. A refusal surfaces as the reader's error (BudgetExceeded).
  template <typename T>
  int NewConst(const std::string& name, DType type, std::vector<int32_t> shape, const std::vector<T>& data) {
    const uint64_t bytes = data.size() * sizeof(T);
    if (!budget_.TryTake(bytes)) throw BudgetExceeded{budget_.RefusalMessage(bytes, "constant '" + name + "'")};
    return g_.AddConstant(name, type, std::move(shape), data.data(), bytes);
  }

  int AddOp(OpType type, std::vector<int> inputs, int output, OpOptions options = {}) {
    return g_.AddOp(type, std::move(inputs), {output}, options);
  }

  // Defines the node's output 0 as a new activation written by a new op.
  Status Emit(const onnx::NodeProto& n, OpType type, std::vector<int> inputs, const std::vector<int64_t>& shape, bool nhwc, OpOptions options = {}) {
    for (int64_t d : shape)
      if (d < 1 || d > kMaxElements) return Status::Error("output dimension " + std::to_string(d) + " out of range");
    if (NumElements(shape) > kMaxElements) return Status::Error("output too large");
    Value v;
    v.shape = shape;
    v.nhwc = nhwc;
    v.tensor = NewTensor(n.output(0), shape, nhwc);
    v.producer = AddOp(type, std::move(inputs), v.tensor, options);
    return Define(n.output(0), std::move(v));
  }

  Status Alias(const onnx::NodeProto& n, Value v) { return Define(n.output(0), std::move(v)); }

  Expected<const Value*> Input(const onnx::NodeProto& n, int k) const {
    if (k >= n.input_size() || n.input(k).empty()) return Status::Error("missing input " + std::to_string(k));
    auto it = values_.find(n.input(k));
    if (it == values_.end()) return Status::Error("input '" + n.input(k) + "' is not defined before this node");
    return &it->second;
  }
  Expected<const Value*> Computed(const onnx::NodeProto& n, int k) const {
    PCLS_ASSIGN_OR_RETURN(const Value* v, Input(n, k));
    if (v->tensor < 0) return Status::Error("input '" + n.input(k) + "' is an initializer (constant folding not supported)");
    if (v->scale != 1.0f) return Status::Error("input '" + n.input(k) + "' comes from a Mul, which only Softmax may read");
    return v;
  }
  Expected<const Value*> Init(const onnx::NodeProto& n, int k) const {
    PCLS_ASSIGN_OR_RETURN(const Value* v, Input(n, k));
    if (!v->init) return Status::Error("input '" + n.input(k) + "' must be an initializer");
    return v;
  }
  bool HasInput(const onnx::NodeProto& n, int k) const { return k < n.input_size() && !n.input(k).empty(); }

  Expected<const Value*> Image(const onnx::NodeProto& n) const {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
    if (!x->nhwc) return Status::Error("input must be a 4-D NCHW activation");
    return x;
  }

  Status Node(const onnx::NodeProto& n) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") return Status::Error("domain '" + n.domain() + "' not supported");
    if (n.output_size() != 1 || n.output(0).empty()) return Status::Error("must have exactly one output");
    std::set<std::string> attributes;
    for (const auto& a : n.attribute())
      if (!attributes.insert(a.name()).second) return Status::Error("attribute '" + a.name() + "' given twice");
    const std::string& op = n.op_type();
    if (op == "Conv") return Conv(n);
    if (op == "AveragePool" || op == "MaxPool") return Pool(n, op == "AveragePool");
    if (op == "Pad") return Pad(n);
    if (op == "Relu") return FusedActivation(n, Activation::kRelu);
    if (op == "Clip") return Clip(n);
    if (op == "GlobalAveragePool") return GlobalAveragePool(n);
    if (op == "ReduceMean") return ReduceMean(n);
    if (op == "Flatten" || op == "Reshape") return Reshape(n, op == "Flatten");
    if (op == "Gemm" || op == "MatMul") return Gemm(n, op == "MatMul");
    if (op == "Add") return Add(n);
    if (op == "Softmax") return Softmax(n);
    if (op == "Sigmoid") {
      PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
      return Emit(n, OpType::kLogistic, {x->tensor}, x->shape, x->nhwc);
    }
    if (op == "Identity") {
      PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
      return Alias(n, *x);
    }
    if (op == "Transpose") return Transpose(n);
    if (op == "Constant") return Constant(n);
    if (op == "Mul") return Mul(n);
    return Status::Error("op not supported");
  }

  // Padding of Conv/pools: {top, left, bottom, right} from auto_pad and pads.
  Expected<std::array<int64_t, 4>> Pads(const Attributes& a, const std::vector<int64_t>& x, const std::vector<int64_t>& kernel,
                                        const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations) const {
    PCLS_ASSIGN_OR_RETURN(std::string auto_pad, a.String("auto_pad", "NOTSET"));
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      auto ph = SamePadding(x[2], kernel[0], strides[0], dilations[0]);
      auto pw = SamePadding(x[3], kernel[1], strides[1], dilations[1]);
      if (auto_pad == "SAME_LOWER") std::swap(ph[0], ph[1]), std::swap(pw[0], pw[1]);
      return std::array<int64_t, 4>{ph[0], pw[0], ph[1], pw[1]};
    }
    if (auto_pad == "VALID") return std::array<int64_t, 4>{};
    if (auto_pad != "NOTSET") return Status::Error("auto_pad '" + auto_pad + "' not supported");
    PCLS_ASSIGN_OR_RETURN(auto pads, a.Ints("pads", {0, 0, 0, 0}));
    PCLS_RETURN_IF_ERROR(CheckWindow(pads, 4, 0, "pads"));
    return std::array<int64_t, 4>{pads[0], pads[1], pads[2], pads[3]};
  }

  // Whether explicit pads are TFLite's SAME padding for this window.
  static bool IsSame(const std::array<int64_t, 4>& p, const std::vector<int64_t>& x, const std::vector<int64_t>& kernel,
                     const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations) {
    const auto ph = SamePadding(x[2], kernel[0], strides[0], dilations[0]);
    const auto pw = SamePadding(x[3], kernel[1], strides[1], dilations[1]);
    return p[0] == ph[0] && p[2] == ph[1] && p[1] == pw[0] && p[3] == pw[1];
  }

  // Output height/width of a window op on NCHW `x` with pads applied.
  static Expected<std::array<int64_t, 2>> WindowOutput(const std::vector<int64_t>& x, const std::array<int64_t, 4>& p,
                                                       const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                                                       const std::vector<int64_t>& dilations) {
    std::array<int64_t, 2> out{};
    for (int k = 0; k < 2; ++k) {
      const int64_t span = x[2 + k] + p[k] + p[k + 2];
      const int64_t effective = (kernel[k] - 1) * dilations[k] + 1;
      if (span < effective) return Status::Error("window larger than the padded input");
      out[k] = (span - effective) / strides[k] + 1;
    }
    return out;
  }

  // An explicit PAD op in front of a window op; returns the padded tensor.
  int PadTensor(const Value& x, const std::array<int64_t, 4>& p, const std::string& name) {
    const std::vector<int32_t> paddings = {0, 0, static_cast<int32_t>(p[0]), static_cast<int32_t>(p[2]),
                                           static_cast<int32_t>(p[1]), static_cast<int32_t>(p[3]), 0, 0};
    const int pads = NewConst(name + "_paddings", DType::kInt32, {4, 2}, paddings);
    const int out = NewTensor(name, {x.shape[0], x.shape[1], x.shape[2] + p[0] + p[2], x.shape[3] + p[1] + p[3]}, true);
    AddOp(OpType::kPad, {x.tensor, pads}, out);
    return out;
  }

  Status Conv(const onnx::NodeProto& n) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Image(n));
    PCLS_ASSIGN_OR_RETURN(const Value* w, Init(n, 1));
    if (w->shape.size() != 4) return Status::Error("weights must be 4-D [O, I/group, kH, kW]");
    PCLS_ASSIGN_OR_RETURN(std::vector<float> wdata, FloatData(*w->init));
    const int64_t out_c = w->shape[0], in_c = x->shape[1];
    const std::vector<int64_t> kernel = {w->shape[2], w->shape[3]};
    const Attributes a(n);
    PCLS_ASSIGN_OR_RETURN(auto kernel_attr, a.Ints("kernel_shape", kernel));
    if (kernel_attr != kernel) return Status::Error("kernel_shape disagrees with the weights");
    PCLS_ASSIGN_OR_RETURN(auto strides, a.Ints("strides", {1, 1}));
    PCLS_ASSIGN_OR_RETURN(auto dilations, a.Ints("dilations", {1, 1}));
    PCLS_ASSIGN_OR_RETURN(int64_t group, a.Int("group", 1));
    PCLS_RETURN_IF_ERROR(CheckWindow(kernel, 2, 1, "kernel_shape"));
    PCLS_RETURN_IF_ERROR(CheckWindow(strides, 2, 1, "strides"));
    PCLS_RETURN_IF_ERROR(CheckWindow(dilations, 2, 1, "dilations"));
    const bool depthwise = group != 1;
    if (depthwise && !(group == in_c && w->shape[1] == 1 && out_c % in_c == 0))
      return Status::Error("group " + std::to_string(group) + " not supported (only 1 or depthwise: group = input channels)");
    if (!depthwise && w->shape[1] != in_c) return Status::Error("weights have " + std::to_string(w->shape[1]) + " input channels, input has " + std::to_string(in_c));
    std::vector<float> bias(static_cast<size_t>(out_c), 0.0f);
    if (HasInput(n, 2)) {
      PCLS_ASSIGN_OR_RETURN(const Value* b, Init(n, 2));
      PCLS_ASSIGN_OR_RETURN(bias, FloatData(*b->init));
      if (static_cast<int64_t>(bias.size()) != out_c || b->shape.size() != 1) return Status::Error("bias must be [" + std::to_string(out_c) + "]");
    }
    PCLS_ASSIGN_OR_RETURN(auto pads, Pads(a, x->shape, kernel, strides, dilations));
    PCLS_ASSIGN_OR_RETURN(auto out_hw, WindowOutput(x->shape, pads, kernel, strides, dilations));

    OpOptions o;
    o.stride_h = static_cast<int>(strides[0]), o.stride_w = static_cast<int>(strides[1]);
    o.dilation_h = static_cast<int>(dilations[0]), o.dilation_w = static_cast<int>(dilations[1]);
    int input = x->tensor;
    if (pads == std::array<int64_t, 4>{}) {
      o.padding = Padding::kValid;
    } else if (IsSame(pads, x->shape, kernel, strides, dilations)) {
      o.padding = Padding::kSame;
    } else {
      o.padding = Padding::kValid;
      input = PadTensor(*x, pads, n.output(0) + "_padded");
    }
    const std::array<int64_t, 4> wshape = {w->shape[0], w->shape[1], w->shape[2], w->shape[3]};
    std::vector<float> filter;
    std::vector<int32_t> filter_shape;
    OpType type = OpType::kConv2D;
    if (depthwise) {
      // [C*M, 1, kH, kW] -> [1, kH, kW, C*M]; output channel c*M + m reads channel c in both.
      filter = Permute4D(wdata.data(), wshape, {1, 2, 3, 0});
      filter_shape = {1, static_cast<int32_t>(kernel[0]), static_cast<int32_t>(kernel[1]), static_cast<int32_t>(out_c)};
      o.depth_multiplier = static_cast<int>(out_c / in_c);
      type = OpType::kDepthwiseConv2D;
    } else {
      filter = Permute4D(wdata.data(), wshape, kNchwToNhwc);  // OIHW -> OHWI
      filter_shape = {static_cast<int32_t>(out_c), static_cast<int32_t>(kernel[0]), static_cast<int32_t>(kernel[1]), static_cast<int32_t>(in_c)};
    }
    const int f = NewConst(n.input(1), DType::kFloat32, filter_shape, filter);
    const int b = NewConst(n.output(0) + "_bias", DType::kFloat32, {static_cast<int32_t>(out_c)}, bias);
    return Emit(n, type, {input, f, b}, {x->shape[0], out_c, out_hw[0], out_hw[1]}, true, o);
  }

  Status Pool(const onnx::NodeProto& n, bool average) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Image(n));
    const Attributes a(n);
    PCLS_ASSIGN_OR_RETURN(auto kernel, a.Ints("kernel_shape", {}));
    PCLS_ASSIGN_OR_RETURN(auto strides, a.Ints("strides", {1, 1}));
    PCLS_ASSIGN_OR_RETURN(auto dilations, a.Ints("dilations", {1, 1}));
    PCLS_ASSIGN_OR_RETURN(int64_t ceil_mode, a.Int("ceil_mode", 0));
    PCLS_ASSIGN_OR_RETURN(int64_t include_pad, a.Int("count_include_pad", 0));
    PCLS_ASSIGN_OR_RETURN(int64_t storage_order, a.Int("storage_order", 0));
    PCLS_RETURN_IF_ERROR(CheckWindow(kernel, 2, 1, "kernel_shape"));
    PCLS_RETURN_IF_ERROR(CheckWindow(strides, 2, 1, "strides"));
    if (dilations != std::vector<int64_t>{1, 1} || ceil_mode != 0 || storage_order != 0)
      return Status::Error("dilations, ceil_mode and storage_order must have their defaults");
    PCLS_ASSIGN_OR_RETURN(auto pads, Pads(a, x->shape, kernel, strides, dilations));
    PCLS_ASSIGN_OR_RETURN(auto out_hw, WindowOutput(x->shape, pads, kernel, strides, dilations));
    OpOptions o;
    o.filter_h = static_cast<int>(kernel[0]), o.filter_w = static_cast<int>(kernel[1]);
    o.stride_h = static_cast<int>(strides[0]), o.stride_w = static_cast<int>(strides[1]);
    if (pads == std::array<int64_t, 4>{}) {
      o.padding = Padding::kValid;
    } else if (IsSame(pads, x->shape, kernel, strides, dilations) && !include_pad) {
      o.padding = Padding::kSame;  // TFLite's SAME pools skip the padding, like count_include_pad = 0
    } else {
      return Status::Error("pads other than TFLite SAME (with count_include_pad = 0) not supported");
    }
    return Emit(n, average ? OpType::kAveragePool2D : OpType::kMaxPool2D, {x->tensor}, {x->shape[0], x->shape[1], out_hw[0], out_hw[1]}, true, o);
  }

  Status Pad(const onnx::NodeProto& n) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
    PCLS_ASSIGN_OR_RETURN(std::string mode, Attributes(n).String("mode", "constant"));
    if (mode != "constant") return Status::Error("mode '" + mode + "' not supported");
    PCLS_ASSIGN_OR_RETURN(const Value* p, Init(n, 1));
    PCLS_ASSIGN_OR_RETURN(std::vector<int64_t> pads, IntData(*p->init));
    if (HasInput(n, 2)) {
      PCLS_ASSIGN_OR_RETURN(const Value* c, Init(n, 2));
      PCLS_ASSIGN_OR_RETURN(std::vector<float> value, FloatData(*c->init));
      if (value.size() != 1 || value[0] != 0.0f) return Status::Error("only constant_value 0 is supported");
    }
    const size_t rank = x->shape.size();
    if (pads.size() != 2 * rank) return Status::Error("pads must have 2 x rank values");
    std::vector<int32_t> paddings(2 * rank);  // [rank, 2] in the Graph's axis order
    std::vector<int64_t> shape = x->shape;
    for (size_t j = 0; j < rank; ++j) {
      if (pads[j] < 0 || pads[j] > kMaxWindow || pads[rank + j] < 0 || pads[rank + j] > kMaxWindow)
        return Status::Error("pads must be in 0.." + std::to_string(kMaxWindow));
      const size_t axis = x->nhwc ? static_cast<size_t>(NchwAxisToNhwc(static_cast<int64_t>(j))) : j;
      paddings[2 * axis] = static_cast<int32_t>(pads[j]);
      paddings[2 * axis + 1] = static_cast<int32_t>(pads[rank + j]);
      shape[j] += pads[j] + pads[rank + j];
    }
    const int p_tensor = NewConst(n.output(0) + "_paddings", DType::kInt32, {static_cast<int32_t>(rank), 2}, paddings);
    return Emit(n, OpType::kPad, {x->tensor, p_tensor}, shape, x->nhwc);
  }

  // Relu/Clip: fused into the op producing the input when only this node reads it, else
  // an ADD of zero carrying the activation.
  Status FusedActivation(const onnx::NodeProto& n, Activation act) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
    if (x->producer >= 0 && consumers_[n.input(0)] == 1) {
      OpDesc& op = g_.ops[x->producer];
      const bool fusable = op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D || op.type == OpType::kFullyConnected ||
                           op.type == OpType::kAdd || op.type == OpType::kAveragePool2D || op.type == OpType::kMaxPool2D;
      if (fusable && op.options.activation == Activation::kNone) {
        op.options.activation = act;
        return Alias(n, *x);
      }
    }
    const int zero = NewConst(n.output(0) + "_zero", DType::kFloat32, std::vector<int32_t>(x->shape.size(), 1), std::vector<float>{0.0f});
    OpOptions o;
    o.activation = act;
    return Emit(n, OpType::kAdd, {x->tensor, zero}, x->shape, x->nhwc, o);
  }

  Status Clip(const onnx::NodeProto& n) {
    float bound[2] = {-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
    for (int k = 1; k <= 2; ++k) {
      if (!HasInput(n, k)) continue;
      PCLS_ASSIGN_OR_RETURN(const Value* v, Init(n, k));
      PCLS_ASSIGN_OR_RETURN(std::vector<float> data, FloatData(*v->init));
      if (data.size() != 1) return Status::Error("min and max must be scalars");
      bound[k - 1] = data[0];
    }
    if (bound[0] == 0.0f && bound[1] == 6.0f) return FusedActivation(n, Activation::kRelu6);
    if (bound[0] == 0.0f && std::isinf(bound[1]) && bound[1] > 0) return FusedActivation(n, Activation::kRelu);
    return Status::Error("only Clip(0, 6) and Clip(0, inf) are supported");
  }

  Status GlobalAveragePool(const onnx::NodeProto& n) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Image(n));
    const int axes = NewConst(n.output(0) + "_axes", DType::kInt32, {2}, std::vector<int32_t>{1, 2});
    OpOptions o;
    o.keep_dims = true;
    return Emit(n, OpType::kMean, {x->tensor, axes}, {x->shape[0], x->shape[1], 1, 1}, true, o);
  }

  Status ReduceMean(const onnx::NodeProto& n) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    const Attributes a(n);
    std::vector<int64_t> all;
    for (int64_t k = 0; k < rank; ++k) all.push_back(k);
    PCLS_ASSIGN_OR_RETURN(auto axes_attr, a.Ints("axes", all));
    PCLS_ASSIGN_OR_RETURN(int64_t keep, a.Int("keepdims", 1));
    std::set<int64_t> axes;
    for (int64_t v : axes_attr) {
      if (v < -rank || v >= rank || !axes.insert(v < 0 ? v + rank : v).second) return Status::Error("axes out of range or repeated");
    }
    std::vector<int32_t> physical;
    std::vector<int64_t> shape;
    int last = -1;
    for (int64_t k = 0; k < rank; ++k) {
      const int p = x->nhwc ? NchwAxisToNhwc(k) : static_cast<int>(k);
      if (axes.count(k)) {
        physical.push_back(p);
        if (keep) shape.push_back(1);
        continue;
      }
      // Without keepdims the kept axes must come out in the same order in both layouts.
      if (!keep && p < last) return Status::Error("ReduceMean without keepdims over these axes of an NCHW tensor not supported");
      last = p;
      shape.push_back(x->shape[k]);
    }
    std::sort(physical.begin(), physical.end());
    const int axes_tensor = NewConst(n.output(0) + "_axes", DType::kInt32, {static_cast<int32_t>(physical.size())}, physical);
    OpOptions o;
    o.keep_dims = keep != 0;
    return Emit(n, OpType::kMean, {x->tensor, axes_tensor}, shape, x->nhwc && keep, o);
  }

  Status Reshape(const onnx::NodeProto& n, bool flatten) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
    if (x->nhwc && !OrdersAgree(x->shape)) return Status::Error("reshaping an NCHW activation with H*W > 1 and C > 1 needs a transpose (not supported)");
    const int64_t count = NumElements(x->shape);
    std::vector<int64_t> shape;
    if (flatten) {
      const int64_t rank = static_cast<int64_t>(x->shape.size());
      PCLS_ASSIGN_OR_RETURN(int64_t axis, Attributes(n).Int("axis", 1));
      if (axis < -rank || axis > rank) return Status::Error("axis out of range");
      if (axis < 0) axis += rank;
      int64_t outer = 1;
      for (int64_t k = 0; k < axis; ++k) outer *= x->shape[k];
      shape = {outer, count / outer};
    } else {
      PCLS_ASSIGN_OR_RETURN(const Value* s, Init(n, 1));
      PCLS_ASSIGN_OR_RETURN(shape, IntData(*s->init));
      PCLS_ASSIGN_OR_RETURN(int64_t allow_zero, Attributes(n).Int("allowzero", 0));
      if (shape.empty() || shape.size() > 4) return Status::Error("target rank must be 1..4");
      int infer = -1;
      int64_t known = 1;
      for (size_t k = 0; k < shape.size(); ++k) {
        if (shape[k] == 0 && !allow_zero) {
          if (k >= x->shape.size()) return Status::Error("0 copies a dimension the input lacks");
          shape[k] = x->shape[k];
        }
        if (shape[k] == -1 && infer < 0) {
          infer = static_cast<int>(k);
          continue;
        }
        if (shape[k] < 1 || shape[k] > kMaxElements) return Status::Error("target dimension " + std::to_string(shape[k]) + " invalid");
        known *= shape[k];
        if (known > kMaxElements) return Status::Error("target too large");
      }
      if (infer >= 0) shape[infer] = count % known == 0 ? count / known : 0;
    }
    if (NumElements(shape) != count) return Status::Error("cannot reshape " + std::to_string(count) + " elements to the target shape");
    const bool nhwc = shape.size() == 4 && OrdersAgree(shape);
    const std::vector<int32_t> physical = Physical(shape, nhwc);
    const int target = NewConst(n.output(0) + "_shape", DType::kInt32, {static_cast<int32_t>(physical.size())}, physical);
    return Emit(n, OpType::kReshape, {x->tensor, target}, shape, nhwc);
  }

  Status Transpose(const onnx::NodeProto& n) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
    std::vector<int64_t> identity;
    for (size_t k = 0; k < x->shape.size(); ++k) identity.push_back(static_cast<int64_t>(k));
    std::vector<int64_t> reverse(identity.rbegin(), identity.rend());
    PCLS_ASSIGN_OR_RETURN(auto perm, Attributes(n).Ints("perm", reverse));
    if (perm == identity) return Alias(n, *x);
    // Only the switches between the two views of one NHWC buffer cost nothing.
    Value v = *x;
    if (x->nhwc && perm == std::vector<int64_t>{0, 2, 3, 1}) {
      v.nhwc = false;
    } else if (!x->nhwc && x->shape.size() == 4 && perm == std::vector<int64_t>{0, 3, 1, 2}) {
      v.nhwc = true;
    } else {
      return Status::Error("only NCHW <-> NHWC transposes of 4-D activations are supported");
    }
    for (size_t k = 0; k < 4; ++k) v.shape[k] = x->shape[perm[k]];
    v.producer = -1;  // the producer's output is now read under another name: no fusion
    return Alias(n, std::move(v));
  }

  // A Constant node (exporters emit them for shapes) is one more initializer.
  Status Constant(const onnx::NodeProto& n) {
    if (n.attribute_size() != 1 || n.attribute(0).name() != "value" || n.attribute(0).type() != onnx::AttributeProto::TENSOR)
      return Status::Error("only the 'value' tensor form is supported");
    Value v;
    v.init = &n.attribute(0).t();
    PCLS_ASSIGN_OR_RETURN(v.shape, CheckedDims(*v.init));
    return Define(n.output(0), std::move(v));
  }

  Status Gemm(const onnx::NodeProto& n, bool matmul) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Computed(n, 0));
    PCLS_ASSIGN_OR_RETURN(const Value* b, Init(n, 1));
    if (x->shape.size() != 2 || x->nhwc) return Status::Error("input must be 2-D");
    if (b->shape.size() != 2) return Status::Error("weights must be 2-D");
    PCLS_ASSIGN_OR_RETURN(std::vector<float> bdata, FloatData(*b->init));
    const Attributes a(n);
    PCLS_ASSIGN_OR_RETURN(int64_t trans_a, a.Int("transA", 0));
    PCLS_ASSIGN_OR_RETURN(int64_t trans_b, a.Int("transB", 0));
    PCLS_ASSIGN_OR_RETURN(float alpha, a.Float("alpha", 1.0f));
    PCLS_ASSIGN_OR_RETURN(float beta, a.Float("beta", 1.0f));
    if (matmul) trans_a = trans_b = 0, alpha = beta = 1.0f;
    if (trans_a != 0) return Status::Error("transA not supported");
    const int64_t depth = x->shape[1];
    const int64_t units = trans_b ? b->shape[0] : b->shape[1];
    if ((trans_b ? b->shape[1] : b->shape[0]) != depth) return Status::Error("weights do not match the input depth " + std::to_string(depth));
    std::vector<float> weights(static_cast<size_t>(units * depth));  // [units, depth]
    for (int64_t u = 0; u < units; ++u)
      for (int64_t d = 0; d < depth; ++d) weights[u * depth + d] = alpha * (trans_b ? bdata[u * depth + d] : bdata[d * units + u]);
    std::vector<float> bias(static_cast<size_t>(units), 0.0f);
    if (!matmul && HasInput(n, 2)) {
      PCLS_ASSIGN_OR_RETURN(const Value* c, Init(n, 2));
      PCLS_ASSIGN_OR_RETURN(std::vector<float> cdata, FloatData(*c->init));
      if (cdata.size() != 1 && static_cast<int64_t>(cdata.size()) != units) return Status::Error("bias must have 1 or " + std::to_string(units) + " values");
      if (c->shape.size() == 2 && c->shape[0] != 1) return Status::Error("bias must not broadcast over the batch");
      for (int64_t u = 0; u < units; ++u) bias[u] = beta * cdata[cdata.size() == 1 ? 0 : u];
    }
    const int w = NewConst(n.input(1), DType::kFloat32, {static_cast<int32_t>(units), static_cast<int32_t>(depth)}, weights);
    const int bt = NewConst(n.output(0) + "_bias", DType::kFloat32, {static_cast<int32_t>(units)}, bias);
    return Emit(n, OpType::kFullyConnected, {x->tensor, w, bt}, {x->shape[0], units}, false);
  }

  Status Add(const onnx::NodeProto& n) {
    PCLS_ASSIGN_OR_RETURN(const Value* a, Input(n, 0));
    PCLS_ASSIGN_OR_RETURN(const Value* b, Input(n, 1));
    if (a->init && b->init) return Status::Error("adding two initializers (constant folding) not supported");
    if (a->init) std::swap(a, b);
    PCLS_ASSIGN_OR_RETURN(auto shape, Broadcast(a->shape, b->shape));
    if (shape.size() > 4) return Status::Error("rank above 4 not supported");
    int other = b->tensor;
    if (b->init) {
      PCLS_ASSIGN_OR_RETURN(std::vector<float> data, FloatData(*b->init));
      std::vector<int64_t> cshape = b->shape;
      if (a->nhwc) {
        // Numpy broadcasting aligns trailing axes: give the constant 4 axes, then NHWC order.
        cshape.insert(cshape.begin(), 4 - cshape.size(), 1);
        data = Permute4D(data.data(), {cshape[0], cshape[1], cshape[2], cshape[3]}, kNchwToNhwc);
      }
      other = NewConst(n.output(0) + "_const", DType::kFloat32, Physical(cshape, a->nhwc), data);
    } else if (a->nhwc != b->nhwc || a->shape.size() != b->shape.size()) {
      return Status::Error("inputs of different ranks or layouts not supported");
    }
    return Emit(n, OpType::kAdd, {a->tensor, other}, shape, a->nhwc && shape.size() == 4);
  }

  // Mul by a positive scalar constant, allowed only in front of a Softmax (its beta, as
  // our writer emits it): the value is the input with a pending scale.
  Status Mul(const onnx::NodeProto& n) {
    PCLS_ASSIGN_OR_RETURN(const Value* a, Input(n, 0));
    PCLS_ASSIGN_OR_RETURN(const Value* b, Input(n, 1));
    if (a->init) std::swap(a, b);
    if (a->tensor < 0 || !b->init) return Status::Error("only an activation times a scalar constant is supported");
    PCLS_ASSIGN_OR_RETURN(std::vector<float> factor, FloatData(*b->init));
    if (factor.size() != 1 || !std::isfinite(factor[0]) || factor[0] <= 0) return Status::Error("the constant must be one positive value");
    Value v = *a;
    v.scale *= factor[0];
    v.producer = -1;
    return Alias(n, std::move(v));
  }

  Status Softmax(const onnx::NodeProto& n) {
    PCLS_ASSIGN_OR_RETURN(const Value* x, Input(n, 0));
    if (x->tensor < 0) return Status::Error("input is an initializer (constant folding not supported)");
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    PCLS_ASSIGN_OR_RETURN(int64_t axis, Attributes(n).Int("axis", opset_ >= 13 ? -1 : 1));
    if (axis < -rank || axis >= rank) return Status::Error("axis out of range");
    if (axis < 0) axis += rank;
    // SOFTMAX runs over the Graph's last axis: C of an NHWC tensor. Before opset 13 Softmax
    // flattened from `axis` on, which is the same only when nothing follows it.
    const bool last = x->nhwc ? axis == 1 && (opset_ >= 13 || x->shape[2] * x->shape[3] == 1) : axis == rank - 1;
    if (!last) return Status::Error("softmax over axis " + std::to_string(axis) + " not supported (only the channel/last axis)");
    OpOptions o;
    o.softmax_beta = x->scale;
    return Emit(n, OpType::kSoftmax, {x->tensor}, x->shape, x->nhwc, o);
  }

  const onnx::ModelProto& m_;
  Graph& g_;
  MemoryBudget& budget_;
  int64_t opset_ = 0;
  std::unordered_map<std::string, Value> values_;  // elements stay put as it grows: Value* stay valid
  std::unordered_map<std::string, int> consumers_;  // readers of each value (graph outputs count)
  std::unordered_set<std::string> read_otherwise_;  // values some node reads other than as Transpose(0,3,1,2)
};

}  // namespace

Expected<Graph> ReadOnnx(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (bytes.empty()) return Status::Error(name + ": empty file");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return Status::Error(name + ": file too large");
  MemoryBudget budget(bytes.size());
  google::protobuf::ArenaOptions arena_options;
  arena_options.block_alloc = BudgetedBlockAlloc;
  arena_options.block_dealloc = BudgetedBlockDealloc;
  arena_budget = &budget;
  struct ResetBudget {
    ~ResetBudget() { arena_budget = nullptr; }
  } reset;
  Status s;
  Graph graph;
  try {
    google::protobuf::Arena arena(arena_options);
    auto* model = google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
    if (!model->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      return Status::Error(name + ": not an ONNX model (protobuf parse failed; truncated or corrupt?)");
    if (!model->has_graph()) return Status::Error(name + ": ONNX model has no graph");
    s = Reader(*model, graph, budget).Run();
  } catch (const BudgetExceeded& e) {
    s = Status::Error(e.message);
  } catch (const std::bad_alloc& e) {
    return OutOfMemoryError(name, e);
  } catch (const std::length_error& e) {
    return OutOfMemoryError(name, e);
  }
  if (!s.ok()) {
    // Names in the file may hold any bytes; the error must stay one printable line.
    std::string message = s.message().substr(0, 400);
    for (char& c : message)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return Status::Error(name + ": " + message);
  }
  return graph;
}

}  // namespace personcls::onnx_format
