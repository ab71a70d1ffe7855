#include "xnnpack_graph.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace personcls::peers {
namespace {

constexpr uint32_t kInputId = 0, kOutputId = 1;

std::string StatusText(xnn_status s) { return "XNNPACK status " + std::to_string(static_cast<int>(s)); }

std::vector<size_t> Dims(const std::vector<int32_t>& shape) { return std::vector<size_t>(shape.begin(), shape.end()); }

void ActivationRange(Activation a, float& lo, float& hi) {
  lo = -std::numeric_limits<float>::infinity();
  hi = std::numeric_limits<float>::infinity();
  if (a == Activation::kRelu || a == Activation::kRelu6) lo = 0.0f;
  if (a == Activation::kRelu6) hi = 6.0f;
}

class Builder {
 public:
  Builder(const Graph& g, xnn_subgraph_t sg, std::vector<std::vector<float>>& scales) : g_(g), sg_(sg), scales_(scales) {
    ids_.assign(g.tensors.size(), XNN_INVALID_VALUE_ID);
  }
  std::string notes;

  Status Build() {
    if (g_.inputs.size() != 1 || g_.outputs.size() != 1) return Status::Error("XNNPACK peer: one input and one output expected");
    uint32_t id;
    PCLS_RETURN_IF_ERROR(Define(g_.inputs[0], kInputId, XNN_VALUE_FLAG_EXTERNAL_INPUT, &id));
    PCLS_RETURN_IF_ERROR(Define(g_.outputs[0], kOutputId, XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &id));
    for (size_t k = 0; k < g_.ops.size(); ++k) {
      Status s = AddOp(g_.ops[k]);
      if (!s.ok()) return Status::Error("XNNPACK peer, operator " + std::to_string(k) + " (" + OpTypeName(g_.ops[k].type) + "): " + s.message());
    }
    return Status::Ok();
  }

 private:
  // Defines tensor t as an XNNPACK value (once).
  Status Define(int t, uint32_t external_id, uint32_t flags, uint32_t* id) {
    if (ids_[t] != XNN_INVALID_VALUE_ID) {
      *id = ids_[t];
      return Status::Ok();
    }
    const TensorDesc& d = g_.tensors[t];
    const std::vector<size_t> dims = Dims(d.shape);
    const void* data = d.is_constant() ? d.data : nullptr;
    xnn_status s;
    if (d.dtype == DType::kFloat32) {
      s = xnn_define_tensor_value(sg_, xnn_datatype_fp32, dims.size(), dims.data(), data, external_id, flags, id);
    } else if (d.dtype == DType::kInt8 && d.quant.scale.size() == 1) {
      s = xnn_define_quantized_tensor_value(sg_, xnn_datatype_qint8, d.quant.zero_point[0], d.quant.scale[0], dims.size(), dims.data(),
                                            data, external_id, flags, id);
    } else if (d.dtype == DType::kInt8 && d.quant.scale.size() > 1) {
      scales_.push_back(d.quant.scale);
      s = xnn_define_channelwise_quantized_tensor_value(sg_, xnn_datatype_qcint8, scales_.back().data(), dims.size(), d.quant.axis,
                                                        dims.data(), data, external_id, flags, id);
    } else {
      return Status::Error("tensor " + d.name + " of type " + DTypeName(d.dtype) + " needs the scale of its op (bias)");
    }
    if (s != xnn_status_success) return Status::Error("defining tensor " + d.name + ": " + StatusText(s));
    ids_[t] = *id;
    return Status::Ok();
  }

  // An int32 bias of a conv-like op: scale input_scale * filter_scale[c], zero point 0.
  Status DefineBias(int bias, int input, int filter, uint32_t* id) {
    if (bias < 0) {
      *id = XNN_INVALID_VALUE_ID;
      return Status::Ok();
    }
    const TensorDesc& b = g_.tensors[bias];
    if (b.dtype != DType::kInt32) return Define(bias, XNN_INVALID_VALUE_ID, 0, id);
    const TensorDesc& in = g_.tensors[input];
    const TensorDesc& f = g_.tensors[filter];
    const std::vector<size_t> dims = Dims(b.shape);
    xnn_status s;
    if (f.quant.scale.size() > 1) {
      std::vector<float> sc(f.quant.scale.size());
      for (size_t c = 0; c < sc.size(); ++c) sc[c] = in.quant.scale[0] * f.quant.scale[c];
      scales_.push_back(std::move(sc));
      s = xnn_define_channelwise_quantized_tensor_value(sg_, xnn_datatype_qcint32, scales_.back().data(), dims.size(), 0, dims.data(),
                                                        b.data, XNN_INVALID_VALUE_ID, 0, id);
    } else {
      s = xnn_define_quantized_tensor_value(sg_, xnn_datatype_qint32, 0, in.quant.scale[0] * f.quant.scale[0], dims.size(), dims.data(),
                                            b.data, XNN_INVALID_VALUE_ID, 0, id);
    }
    if (s != xnn_status_success) return Status::Error("defining bias " + b.name + ": " + StatusText(s));
    ids_[bias] = *id;
    return Status::Ok();
  }

  // A float32 twin of int8 activation tensor t (same shape), for ops run between converts.
  Status FloatTwin(int t, uint32_t* id) {
    const std::vector<size_t> dims = Dims(g_.tensors[t].shape);
    const xnn_status s = xnn_define_tensor_value(sg_, xnn_datatype_fp32, dims.size(), dims.data(), nullptr, XNN_INVALID_VALUE_ID, 0, id);
    return s == xnn_status_success ? Status::Ok() : Status::Error("float twin: " + StatusText(s));
  }

  // Runs `define(in_ids, out_id)` on the op's int8 tensors; when XNNPACK refuses that,
  // again on float32 twins between convert nodes.
  template <typename F>
  Status WithFloatFallback(const OpDesc& op, size_t num_inputs, F define) {
    std::vector<uint32_t> in(num_inputs);
    uint32_t out;
    for (size_t i = 0; i < num_inputs; ++i) PCLS_RETURN_IF_ERROR(Define(op.inputs[i], XNN_INVALID_VALUE_ID, 0, &in[i]));
    PCLS_RETURN_IF_ERROR(Define(op.outputs[0], XNN_INVALID_VALUE_ID, 0, &out));
    xnn_status s = define(in, out);
    if (s == xnn_status_success) return Status::Ok();
    if (g_.tensors[op.outputs[0]].dtype != DType::kInt8) return Status::Error(StatusText(s));
    std::vector<uint32_t> fin(num_inputs);
    uint32_t fout;
    for (size_t i = 0; i < num_inputs; ++i) {
      PCLS_RETURN_IF_ERROR(FloatTwin(op.inputs[i], &fin[i]));
      if (xnn_define_convert(sg_, in[i], fin[i], 0) != xnn_status_success) return Status::Error("convert to float32 refused");
    }
    PCLS_RETURN_IF_ERROR(FloatTwin(op.outputs[0], &fout));
    s = define(fin, fout);
    if (s != xnn_status_success) return Status::Error("refused in int8 and float32: " + StatusText(s));
    if (xnn_define_convert(sg_, fout, out, 0) != xnn_status_success) return Status::Error("convert to int8 refused");
    notes += std::string(notes.empty() ? "" : ", ") + OpTypeName(op.type) + " in float32";
    return Status::Ok();
  }

  Status AddOp(const OpDesc& op) {
    const OpOptions& o = op.options;
    float lo, hi;
    ActivationRange(o.activation, lo, hi);
    const uint32_t same = o.padding == Padding::kSame ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0;
    uint32_t in, out, filter, bias;
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D: {
        PCLS_RETURN_IF_ERROR(Define(op.inputs[0], XNN_INVALID_VALUE_ID, 0, &in));
        PCLS_RETURN_IF_ERROR(Define(op.inputs[1], XNN_INVALID_VALUE_ID, 0, &filter));
        PCLS_RETURN_IF_ERROR(DefineBias(op.inputs.size() > 2 ? op.inputs[2] : -1, op.inputs[0], op.inputs[1], &bias));
        PCLS_RETURN_IF_ERROR(Define(op.outputs[0], XNN_INVALID_VALUE_ID, 0, &out));
        const auto& fs = g_.tensors[op.inputs[1]].shape;  // OHWI or 1HW(C*M)
        const auto& is = g_.tensors[op.inputs[0]].shape;
        xnn_status s;
        if (op.type == OpType::kConv2D)
          s = xnn_define_convolution_2d(sg_, 0, 0, 0, 0, fs[1], fs[2], o.stride_h, o.stride_w, o.dilation_h, o.dilation_w, 1, is[3], fs[0], lo,
                                        hi, in, filter, bias, out, same);
        else
          s = xnn_define_depthwise_convolution_2d(sg_, 0, 0, 0, 0, fs[1], fs[2], o.stride_h, o.stride_w, o.dilation_h, o.dilation_w,
                                                  o.depth_multiplier, is[3], lo, hi, in, filter, bias, out, same);
        return s == xnn_status_success ? Status::Ok() : Status::Error(StatusText(s));
      }
      case OpType::kFullyConnected: {
        PCLS_RETURN_IF_ERROR(Define(op.inputs[0], XNN_INVALID_VALUE_ID, 0, &in));
        PCLS_RETURN_IF_ERROR(Define(op.inputs[1], XNN_INVALID_VALUE_ID, 0, &filter));
        PCLS_RETURN_IF_ERROR(DefineBias(op.inputs.size() > 2 ? op.inputs[2] : -1, op.inputs[0], op.inputs[1], &bias));
        PCLS_RETURN_IF_ERROR(Define(op.outputs[0], XNN_INVALID_VALUE_ID, 0, &out));
        const xnn_status s = xnn_define_fully_connected(sg_, lo, hi, in, filter, bias, out, XNN_FLAG_TENSORFLOW_RESHAPE_2D);
        return s == xnn_status_success ? Status::Ok() : Status::Error(StatusText(s));
      }
      case OpType::kPad: {
        const TensorDesc& p = g_.tensors[op.inputs[1]];
        const auto* pads = reinterpret_cast<const int32_t*>(p.data);
        const size_t rank = g_.tensors[op.inputs[0]].shape.size();
        std::vector<size_t> pre(rank), post(rank);
        for (size_t d = 0; d < rank; ++d) {
          pre[d] = pads[2 * d];
          post[d] = pads[2 * d + 1];
        }
        return WithFloatFallback(op, 1, [&](const std::vector<uint32_t>& i, uint32_t out_id) {
          return xnn_define_static_constant_pad(sg_, pre.data(), post.data(), 0.0f, i[0], out_id, 0);
        });
      }
      case OpType::kMean: {
        const TensorDesc& axes = g_.tensors[op.inputs[1]];
        const auto* a = reinterpret_cast<const int32_t*>(axes.data);
        if (axes.num_elements() != 2 || !((a[0] == 1 && a[1] == 2) || (a[0] == 2 && a[1] == 1)))
          return Status::Error("MEAN over axes other than H and W");
        const TensorDesc& x = g_.tensors[op.inputs[0]];
        const TensorDesc& y = g_.tensors[op.outputs[0]];
        PCLS_RETURN_IF_ERROR(Define(op.inputs[0], XNN_INVALID_VALUE_ID, 0, &in));
        PCLS_RETURN_IF_ERROR(Define(op.outputs[0], XNN_INVALID_VALUE_ID, 0, &out));
        const size_t pooled_dims[4] = {static_cast<size_t>(x.shape[0]), 1, 1, static_cast<size_t>(x.shape[3])};
        uint32_t pooled = out;
        if (y.shape.size() != 4) {  // keep_dims false: pool to [N,1,1,C], then reshape
          const xnn_status s = y.dtype == DType::kInt8
                                   ? xnn_define_quantized_tensor_value(sg_, xnn_datatype_qint8, y.quant.zero_point[0], y.quant.scale[0], 4,
                                                                       pooled_dims, nullptr, XNN_INVALID_VALUE_ID, 0, &pooled)
                                   : xnn_define_tensor_value(sg_, xnn_datatype_fp32, 4, pooled_dims, nullptr, XNN_INVALID_VALUE_ID, 0, &pooled);
          if (s != xnn_status_success) return Status::Error(StatusText(s));
        }
        xnn_status s = xnn_define_global_average_pooling_2d(sg_, -INFINITY, INFINITY, in, pooled, 0);
        if (s != xnn_status_success) return Status::Error("global average pooling: " + StatusText(s));
        if (pooled != out) {
          const std::vector<size_t> dims = Dims(y.shape);
          s = xnn_define_static_reshape(sg_, dims.size(), dims.data(), pooled, out, 0);
          if (s != xnn_status_success) return Status::Error("reshape after MEAN: " + StatusText(s));
        }
        return Status::Ok();
      }
      case OpType::kAveragePool2D:
      case OpType::kMaxPool2D:
        return WithFloatFallback(op, 1, [&](const std::vector<uint32_t>& i, uint32_t out_id) {
          if (op.type == OpType::kAveragePool2D)
            return xnn_define_average_pooling_2d(sg_, 0, 0, 0, 0, o.filter_h, o.filter_w, o.stride_h, o.stride_w, lo, hi, i[0], out_id, same);
          return xnn_define_max_pooling_2d(sg_, 0, 0, 0, 0, o.filter_h, o.filter_w, o.stride_h, o.stride_w, 1, 1, lo, hi, i[0], out_id, same);
        });
      case OpType::kReshape: {
        const std::vector<size_t> dims = Dims(g_.tensors[op.outputs[0]].shape);
        return WithFloatFallback(op, 1, [&](const std::vector<uint32_t>& i, uint32_t out_id) {
          return xnn_define_static_reshape(sg_, dims.size(), dims.data(), i[0], out_id, 0);
        });
      }
      case OpType::kSoftmax:
        if (o.softmax_beta != 1.0f) return Status::Error("softmax beta != 1");
        return WithFloatFallback(op, 1, [&](const std::vector<uint32_t>& i, uint32_t out_id) { return xnn_define_softmax(sg_, i[0], out_id, 0); });
      case OpType::kLogistic:
        return WithFloatFallback(op, 1, [&](const std::vector<uint32_t>& i, uint32_t out_id) { return xnn_define_sigmoid(sg_, i[0], out_id, 0); });
      case OpType::kAdd:
        return WithFloatFallback(op, 2, [&](const std::vector<uint32_t>& i, uint32_t out_id) {
          return xnn_define_add2(sg_, lo, hi, i[0], i[1], out_id, 0);
        });
      case OpType::kQuantize:
      case OpType::kDequantize:
        PCLS_RETURN_IF_ERROR(Define(op.inputs[0], XNN_INVALID_VALUE_ID, 0, &in));
        PCLS_RETURN_IF_ERROR(Define(op.outputs[0], XNN_INVALID_VALUE_ID, 0, &out));
        return xnn_define_convert(sg_, in, out, 0) == xnn_status_success ? Status::Ok() : Status::Error("convert refused");
    }
    return Status::Error("no XNNPACK mapping");
  }

  const Graph& g_;
  xnn_subgraph_t sg_;
  std::vector<std::vector<float>>& scales_;
  std::vector<uint32_t> ids_;
};

}  // namespace

Expected<std::unique_ptr<XnnpackModel>> XnnpackModel::Create(std::shared_ptr<const Graph> graph, int threads) {
  static const xnn_status init = xnn_initialize(nullptr);
  if (init != xnn_status_success) return Status::Error("xnn_initialize failed (CPU not supported?)");
  std::unique_ptr<XnnpackModel> m(new XnnpackModel());
  m->graph_ = graph;
  if (xnn_create_subgraph(2, 0, &m->subgraph_) != xnn_status_success) return Status::Error("xnn_create_subgraph failed");
  Builder b(*graph, m->subgraph_, m->scales_);
  PCLS_RETURN_IF_ERROR(b.Build());
  m->notes_ = b.notes;
  if (threads > 1) m->pool_ = pthreadpool_create(threads);
  const xnn_status s = xnn_create_runtime_v2(m->subgraph_, m->pool_, 0, &m->runtime_);
  if (s != xnn_status_success) return Status::Error("xnn_create_runtime_v2: " + StatusText(s));
  const TensorDesc& in = graph->tensors[graph->inputs[0]];
  const TensorDesc& out = graph->tensors[graph->outputs[0]];
  m->input_.reset(new uint8_t[in.num_bytes() + 64]());
  m->output_.reset(new uint8_t[out.num_bytes() + 64]());
  const xnn_external_value ext[2] = {{kInputId, m->input_.get()}, {kOutputId, m->output_.get()}};
  if (xnn_setup_runtime(m->runtime_, 2, ext) != xnn_status_success) return Status::Error("xnn_setup_runtime failed");
  return m;
}

XnnpackModel::~XnnpackModel() {
  if (runtime_) xnn_delete_runtime(runtime_);
  if (subgraph_) xnn_delete_subgraph(subgraph_);
  if (pool_) pthreadpool_destroy(pool_);
}

void XnnpackModel::Invoke() { xnn_invoke_runtime(runtime_); }

}  // namespace personcls::peers
