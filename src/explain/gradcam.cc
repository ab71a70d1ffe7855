#include "explain/gradcam.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "explain/head_ops.h"

namespace personcls::explain {
namespace {

bool IsSpatialConv(const Graph& g, const OpDesc& op) {
  if (op.type != OpType::kConv2D && op.type != OpType::kDepthwiseConv2D) return false;
  const TensorDesc& out = g.tensors[op.outputs[0]];
  return out.shape.size() == 4 && static_cast<int64_t>(out.shape[1]) * out.shape[2] > 1;
}

}  // namespace

Expected<HeadPlan> PlanHead(const Graph& g) {
  if (g.outputs.empty()) return Status::Error("explain: the graph has no output");
  HeadPlan plan;
  for (int i = static_cast<int>(g.ops.size()) - 1; i >= 0 && plan.feature_op < 0; --i)
    if (IsSpatialConv(g, g.ops[i])) plan.feature_op = i;
  if (plan.feature_op < 0) return Status::Error("explain: no CONV_2D/DEPTHWISE_CONV_2D with a spatial output to explain");
  plan.feature_tensor = g.ops[plan.feature_op].outputs[0];
  const TensorDesc& feature = g.tensors[plan.feature_tensor];
  if (feature.dtype != DType::kFloat32 || feature.shape[0] != 1)
    return Status::Error("explain: feature map '" + feature.name + "' must be float32 with batch 1");
  int current = plan.feature_tensor;
  for (int i = plan.feature_op + 1; i < static_cast<int>(g.ops.size()); ++i) {
    const OpDesc& op = g.ops[i];
    const std::string where = "explain: op " + std::to_string(i) + " (" + OpTypeName(op.type) + ")";
    if (op.inputs.empty() || op.inputs[0] != current) return Status::Error(where + " does not continue the head from the feature map");
    for (size_t k = 1; k < op.inputs.size(); ++k)
      if (op.inputs[k] >= 0 && !g.tensors[op.inputs[k]].is_constant()) return Status::Error(where + " has a second non-constant input");
    Status s = CheckHeadOp(g, op);
    if (!s.ok()) return Status::Error(where + ": " + s.message());
    plan.ops.push_back(i);
    current = op.outputs[0];
  }
  if (current != g.outputs[0]) return Status::Error("explain: the head after the feature map does not end at output 0");
  plan.ends_in_activation =
      !plan.ops.empty() && (g.ops[plan.ops.back()].type == OpType::kSoftmax || g.ops[plan.ops.back()].type == OpType::kLogistic);
  return plan;
}

size_t Head::NumOps(CamScore mode) const {
  return plan_.ops.size() - (mode == CamScore::kLogit && plan_.ends_in_activation ? 1 : 0);
}

int Head::num_classes() const {
  const int64_t n = graph_.tensors[graph_.outputs[0]].num_elements();
  return n == 1 ? 2 : static_cast<int>(n);
}

std::vector<std::vector<double>> Head::Forward(const float* a, CamScore mode) const {
  const int64_t n = graph_.tensors[plan_.feature_tensor].num_elements();
  std::vector<std::vector<double>> values{std::vector<double>(a, a + n)};
  for (size_t i = 0; i < NumOps(mode); ++i) values.push_back(HeadOpForward(graph_, graph_.ops[plan_.ops[i]], values.back()).out);
  return values;
}

std::vector<double> Head::Scores(const float* a, CamScore mode) const {
  const std::vector<double> out = Forward(a, mode).back();
  if (out.size() != 1) return out;
  // One sigmoid output: class 1 is z (or p), class 0 its complement -z (or 1 - p).
  const bool prob = mode == CamScore::kProbability && plan_.ends_in_activation;
  return {prob ? 1.0 - out[0] : -out[0], out[0]};
}

std::vector<double> Head::Gradient(const float* a, int cls, CamScore mode) const {
  assert(cls >= 0 && cls < num_classes());
  const std::vector<std::vector<double>> values = Forward(a, mode);
  std::vector<double> grad(values.back().size(), 0.0);
  if (grad.size() == 1)
    grad[0] = cls == 1 ? 1.0 : -1.0;  // d(-z)/dz and d(1-p)/dp are both -1
  else
    grad[cls] = 1.0;
  for (size_t i = NumOps(mode); i-- > 0;) {
    const OpDesc& op = graph_.ops[plan_.ops[i]];
    // Recompute the op's pre-activation values; the head is tiny next to the network.
    const HeadOpValues v = HeadOpForward(graph_, op, values[i]);
    grad = HeadOpBackward(graph_, op, values[i], v, grad);
  }
  return grad;
}

void ComputeCam(const std::vector<float>& feature, const std::vector<double>& gradient, int height, int width, int channels,
                std::vector<double>* weights, std::vector<float>* cam) {
  const int64_t pixels = static_cast<int64_t>(height) * width;
  weights->assign(channels, 0.0);
  for (int64_t p = 0; p < pixels; ++p)
    for (int k = 0; k < channels; ++k) (*weights)[k] += gradient[p * channels + k];
  for (double& w : *weights) w /= static_cast<double>(pixels);
  std::vector<double> raw(pixels, 0.0);
  double top = 0.0;
  for (int64_t p = 0; p < pixels; ++p) {
    double s = 0.0;
    for (int k = 0; k < channels; ++k) s += (*weights)[k] * feature[p * channels + k];
    raw[p] = std::max(s, 0.0);
    top = std::max(top, raw[p]);
  }
  cam->assign(pixels, 0.0f);
  if (top > 0.0)
    for (int64_t p = 0; p < pixels; ++p) (*cam)[p] = static_cast<float>(raw[p] / top);
}

Expected<std::unique_ptr<GradCam>> GradCam::Create(std::shared_ptr<const Graph> graph, InterpreterOptions options) {
  PCLS_ASSIGN_OR_RETURN(HeadPlan plan, PlanHead(*graph));
  // The network up to the feature map, with the feature map as its only output.
  auto truncated = std::make_shared<Graph>();
  truncated->tensors = graph->tensors;
  truncated->ops.assign(graph->ops.begin(), graph->ops.begin() + plan.feature_op + 1);
  truncated->inputs = graph->inputs;
  truncated->outputs = {plan.feature_tensor};
  truncated->storage = graph->storage;
  auto interpreter = Interpreter::Create(truncated, options);
  if (!interpreter.ok()) return interpreter.status();
  std::unique_ptr<GradCam> cam(new GradCam());
  cam->graph_ = std::move(graph);
  cam->truncated_ = std::move(truncated);
  cam->interpreter_ = std::move(interpreter).value();
  cam->head_ = std::make_unique<Head>(*cam->graph_, std::move(plan));
  return cam;
}

GradCamResult GradCam::Explain(int cls, CamScore mode) {
  interpreter_->Invoke();
  const TensorDesc& f = graph_->tensors[head_->plan().feature_tensor];
  GradCamResult r;
  r.height = f.shape[1];
  r.width = f.shape[2];
  r.channels = f.shape[3];
  const auto* a = static_cast<const float*>(interpreter_->output_data(0));
  r.feature.assign(a, a + f.num_elements());
  r.scores = head_->Scores(a, mode);
  r.cls = cls >= 0 ? cls : static_cast<int>(std::max_element(r.scores.begin(), r.scores.end()) - r.scores.begin());
  r.gradient = head_->Gradient(a, r.cls, mode);
  ComputeCam(r.feature, r.gradient, r.height, r.width, r.channels, &r.weights, &r.cam);
  return r;
}

}  // namespace personcls::explain
