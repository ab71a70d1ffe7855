// QuantizeGraph: calibrate a float32 Graph on sample inputs, then rewrite it as int8.
//
// Calibration runs a copy of the float graph in which every activation tensor is a graph
// output (so the arena planner keeps all of them alive to the end of Invoke) and feeds each
// tensor's values to a RangeEstimator. The int8 graph keeps the float graph's tensors, ops
// and order; only types, quantization parameters, constant data and op versions change.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "personcls/interpreter.h"
#include "personcls/quantize.h"
#include "quant/quant_params.h"
#include "quant/range_estimator.h"

namespace personcls {
namespace {

// Ops whose int8 output must carry the input's parameters (TFLite requires it; the kernels
// do not requantize).
bool SharesInputQuant(OpType t) {
  return t == OpType::kPad || t == OpType::kReshape || t == OpType::kMaxPool2D || t == OpType::kAveragePool2D;
}

// The versions TFLite's converter writes for the int8 form of each op (op_version.cc).
int Int8OpVersion(OpType t) {
  switch (t) {
    case OpType::kConv2D: return 3;  // per-channel int8
    case OpType::kDepthwiseConv2D: return 3;
    case OpType::kFullyConnected: return 4;
    case OpType::kReshape: return 1;
    default: return 2;  // int8 PAD, MEAN, pools, ADD, SOFTMAX, LOGISTIC
  }
}

bool Supported(OpType t) {
  switch (t) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
    case OpType::kFullyConnected:
    case OpType::kPad:
    case OpType::kMean:
    case OpType::kAveragePool2D:
    case OpType::kMaxPool2D:
    case OpType::kReshape:
    case OpType::kAdd:
    case OpType::kSoftmax:
    case OpType::kLogistic: return true;
    default: return false;
  }
}

QuantParams PerTensor(float scale, int32_t zero_point) {
  QuantParams q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

Status CheckFloatGraph(const Graph& g) {
  if (g.inputs.size() != 1) return Status::Error("quantization needs a graph with one input, has " + std::to_string(g.inputs.size()));
  const TensorDesc& in = g.tensors[g.inputs[0]];
  if (in.dtype != DType::kFloat32 || in.shape.size() != 4 || in.shape[0] != 1)
    return Status::Error("quantization needs a float32 [1,H,W,C] input; input '" + in.name + "' is " + DTypeName(in.dtype));
  for (const OpDesc& op : g.ops) {
    if (!Supported(op.type)) return Status::Error(std::string("cannot quantize op ") + OpTypeName(op.type));
    for (int o : op.outputs)
      if (g.tensors[o].dtype != DType::kFloat32) return Status::Error("tensor '" + g.tensors[o].name + "' is not float32: not a float model");
  }
  for (const TensorDesc& t : g.tensors) {
    if (!t.is_constant() || t.dtype != DType::kFloat32) continue;
    const float* v = reinterpret_cast<const float*>(t.data);
    for (int64_t i = 0; i < t.num_elements(); ++i)
      if (!std::isfinite(v[i])) return Status::Error("constant tensor '" + t.name + "' holds NaN or infinity");
  }
  return Status::Ok();
}

// Runs the float graph on every calibration input; fills one estimator per tensor index
// (activations only). Two passes when the method needs histograms.
Status Calibrate(const Graph& float_graph, const CalibrationSource& source, const QuantizeOptions& options,
                 std::vector<quant::RangeEstimator>* estimators) {
  auto probe = std::make_shared<Graph>(float_graph);
  std::vector<int> watched;
  for (const OpDesc& op : probe->ops)
    for (int o : op.outputs) watched.push_back(o);
  probe->outputs = watched;
  InterpreterOptions io;
  io.num_threads = options.num_threads;
  PCLS_ASSIGN_OR_RETURN(auto interp, Interpreter::Create(probe, io));
  const TensorDesc& in = interp->input_desc(0);
  estimators->assign(probe->tensors.size(), {});
  const int passes = options.method == CalibrationMethod::kMinMax ? 1 : 2;
  for (int pass = 0; pass < passes; ++pass) {
    if (pass == 1)
      for (int t : watched) (*estimators)[t].StartHistogram(options.histogram_bins);
    for (size_t i = 0; i < source.size(); ++i) {
      PCLS_RETURN_IF_ERROR(source.Fill(i, in, static_cast<float*>(interp->input_data(0))));
      interp->Invoke();
      for (size_t k = 0; k < watched.size(); ++k) {
        const TensorDesc& d = interp->output_desc(static_cast<int>(k));
        const float* v = static_cast<const float*>(interp->output_data(static_cast<int>(k)));
        const size_t n = static_cast<size_t>(d.num_elements());
        quant::RangeEstimator& e = (*estimators)[watched[k]];
        if (pass == 0) {
          for (size_t j = 0; j < n; ++j)
            if (!std::isfinite(v[j])) return Status::Error("calibration input " + std::to_string(i) + " gives NaN or infinity in '" + d.name + "'");
          e.ObserveMinMax(v, n);
        } else {
          e.ObserveHistogram(v, n);
        }
      }
    }
  }
  return Status::Ok();
}

// Replaces constant tensor `index` with its int8 symmetric quantization along `axis`.
void QuantizeWeights(Graph& g, int index, int axis) {
  TensorDesc& t = g.tensors[index];
  quant::SymmetricWeights w = quant::QuantizeSymmetric(reinterpret_cast<const float*>(t.data), t.shape, axis);
  uint8_t* data = g.AllocateConstant(w.values.size());
  std::memcpy(data, w.values.data(), w.values.size());
  t.dtype = DType::kInt8;
  t.data = data;
  t.quant.scale = w.scales;
  t.quant.zero_point.assign(w.scales.size(), 0);
  t.quant.axis = axis < 0 ? 0 : axis;
}

// Replaces float bias tensor `index` with int32 values at scale input_scale x weight scale.
void QuantizeBiasTensor(Graph& g, int index, float input_scale, const TensorDesc& weights) {
  TensorDesc& t = g.tensors[index];
  std::vector<float> scales;
  const int channels = static_cast<int>(t.num_elements());
  std::vector<int32_t> q = quant::QuantizeBias(reinterpret_cast<const float*>(t.data), channels, input_scale, weights.quant.scale, &scales);
  uint8_t* data = g.AllocateConstant(q.size() * sizeof(int32_t));
  std::memcpy(data, q.data(), q.size() * sizeof(int32_t));
  t.dtype = DType::kInt32;
  t.data = data;
  t.quant.scale = scales;
  t.quant.zero_point.assign(scales.size(), 0);
  t.quant.axis = 0;
}

// MEAN over H and W without keep_dims becomes MEAN (keep_dims, [1,1,1,C]) + RESHAPE [1,C],
// the head SSCMA's int8 files have (their converter's form). The RESHAPE shares the MEAN
// output's parameters, so it costs a copy and no arithmetic.
void SplitMeanAndReshape(Graph& g) {
  for (size_t k = 0; k < g.ops.size(); ++k) {
    OpDesc& mean = g.ops[k];
    if (mean.type != OpType::kMean || mean.options.keep_dims) continue;
    const TensorDesc& in = g.tensors[mean.inputs[0]];
    const TensorDesc& axes = g.tensors[mean.inputs[1]];
    const int32_t* a = reinterpret_cast<const int32_t*>(axes.data);
    if (in.shape.size() != 4 || axes.num_elements() != 2 || a == nullptr || !((a[0] == 1 && a[1] == 2) || (a[0] == 2 && a[1] == 1))) continue;
    const int out = mean.outputs[0];
    const int32_t batch = in.shape[0], channels = in.shape[3];  // `in` dangles once tensors grow
    TensorDesc kept = g.tensors[out];
    kept.name += ".keepdims";
    kept.shape = {batch, 1, 1, channels};
    g.tensors.push_back(kept);
    const int kept_index = static_cast<int>(g.tensors.size()) - 1;
    TensorDesc shape;
    shape.name = g.tensors[out].name + ".shape";
    shape.dtype = DType::kInt32;
    shape.shape = {2};
    int32_t* dims = reinterpret_cast<int32_t*>(g.AllocateConstant(2 * sizeof(int32_t)));
    dims[0] = batch;
    dims[1] = channels;
    shape.data = reinterpret_cast<const uint8_t*>(dims);
    g.tensors.push_back(shape);
    mean.options.keep_dims = true;
    mean.outputs[0] = kept_index;
    OpDesc reshape;
    reshape.type = OpType::kReshape;
    reshape.version = Int8OpVersion(OpType::kReshape);
    reshape.inputs = {kept_index, static_cast<int>(g.tensors.size()) - 1};
    reshape.outputs = {out};
    g.ops.insert(g.ops.begin() + static_cast<std::ptrdiff_t>(k) + 1, reshape);
  }
}

}  // namespace

Expected<CalibrationMethod> CalibrationMethodFromName(const std::string& name) {
  if (name == "minmax") return CalibrationMethod::kMinMax;
  if (name == "l2") return CalibrationMethod::kL2;
  if (name == "percentile") return CalibrationMethod::kPercentile;
  return Status::Error("unknown calibration method '" + name + "' (minmax, l2 or percentile)");
}

const char* CalibrationMethodName(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::kMinMax: return "minmax";
    case CalibrationMethod::kL2: return "l2";
    case CalibrationMethod::kPercentile: return "percentile";
  }
  return "?";
}

Expected<Graph> QuantizeGraph(const Graph& float_graph, const CalibrationSource& calibration, const QuantizeOptions& options) {
  PCLS_RETURN_IF_ERROR(CheckFloatGraph(float_graph));
  if (calibration.size() == 0) return Status::Error("empty calibration set");
  if (!(options.percentile > 50.0 && options.percentile <= 100.0)) return Status::Error("percentile must be in (50, 100]");
  PCLS_RETURN_IF_ERROR(CheckInputNormalization(options.input_normalization));
  if (options.histogram_bins < 16) return Status::Error("histogram needs at least 16 bins");
  std::vector<quant::RangeEstimator> est;
  PCLS_RETURN_IF_ERROR(Calibrate(float_graph, calibration, options, &est));

  Graph g = float_graph;  // shares the constant storage; quantized constants are added to it
  TensorDesc& input = g.tensors[g.inputs[0]];
  input.dtype = DType::kInt8;
  // x = (p - M) * S quantized with scale S and zero point M - 128 is q = p - 128.
  const InputNormalization& n = options.input_normalization;
  const int32_t input_zp = static_cast<int32_t>(std::clamp(std::lround(n.mean) - 128L, -128L, 127L));
  input.quant = PerTensor(n.scale, input_zp);
  std::set<int> rewritten;  // constants already replaced (a shared weight would be quantized twice)
  for (OpDesc& op : g.ops) {
    const TensorDesc& in = g.tensors[op.inputs[0]];
    TensorDesc& out = g.tensors[op.outputs[0]];
    out.dtype = DType::kInt8;
    if (SharesInputQuant(op.type)) {
      out.quant = in.quant;
    } else if (op.type == OpType::kSoftmax || op.type == OpType::kLogistic) {
      out.quant = PerTensor(1.0f / 256.0f, -128);
    } else {
      float lo = est[op.outputs[0]].min(), hi = est[op.outputs[0]].max();
      if (options.method == CalibrationMethod::kPercentile) est[op.outputs[0]].PercentileRange(options.percentile, &lo, &hi);
      if (options.method == CalibrationMethod::kL2) est[op.outputs[0]].L2Range(&lo, &hi);
      const quant::AffineQuant a = quant::ChooseActivationQuant(lo, hi);
      out.quant = PerTensor(a.scale, a.zero_point);
    }
    if (op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D || op.type == OpType::kFullyConnected) {
      const int w = op.inputs.at(1), b = op.inputs.size() > 2 ? op.inputs[2] : -1;
      if (!g.tensors[w].is_constant() || (b >= 0 && !g.tensors[b].is_constant()))
        return Status::Error(std::string(OpTypeName(op.type)) + " '" + out.name + "': weights and bias must be constant");
      if (!rewritten.insert(w).second || (b >= 0 && !rewritten.insert(b).second))
        return Status::Error("weight tensor '" + g.tensors[w].name + "' is shared by two ops");
      const int axis = op.type == OpType::kConv2D ? 0 : op.type == OpType::kDepthwiseConv2D ? 3 : -1;
      QuantizeWeights(g, w, axis);
      if (b >= 0) QuantizeBiasTensor(g, b, in.quant.scale[0], g.tensors[w]);
    }
    op.version = Int8OpVersion(op.type);
  }
  SplitMeanAndReshape(g);
  g.description = "personcls int8 (" + std::string(CalibrationMethodName(options.method)) + ", " + std::to_string(calibration.size()) +
                  " calibration images) of: " + float_graph.description;
  return g;
}

}  // namespace personcls
