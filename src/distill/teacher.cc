#include "distill/teacher.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "personcls/checkpoint.h"
#include "personcls/image.h"
#include "personcls/model.h"

namespace personcls {
namespace {

// The op writing `tensor`, or nullptr for a graph input or constant.
const OpDesc* Producer(const Graph& g, int tensor) {
  for (const OpDesc& op : g.ops)
    if (std::find(op.outputs.begin(), op.outputs.end(), tensor) != op.outputs.end()) return &op;
  return nullptr;
}

// True when graph output 0 is a SOFTMAX result, possibly passed through RESHAPE /
// QUANTIZE / DEQUANTIZE (which keep probabilities probabilities).
bool EndsInSoftmax(const Graph& g) {
  int tensor = g.outputs.empty() ? -1 : g.outputs[0];
  for (int guard = 0; tensor >= 0 && guard < static_cast<int>(g.ops.size()); ++guard) {
    const OpDesc* producer = Producer(g, tensor);
    if (!producer) return false;
    if (producer->type == OpType::kSoftmax) return true;
    if (producer->type != OpType::kReshape && producer->type != OpType::kQuantize && producer->type != OpType::kDequantize) return false;
    tensor = producer->inputs.empty() ? -1 : producer->inputs[0];
  }
  return false;
}

// The classifier feeding output 0 (see teacher.h), or nullptr.
const OpDesc* Classifier(const Graph& g) {
  int tensor = g.outputs.empty() ? -1 : g.outputs[0];
  for (int guard = 0; tensor >= 0 && guard < static_cast<int>(g.ops.size()); ++guard) {
    const OpDesc* op = Producer(g, tensor);
    if (!op || op->inputs.empty()) return nullptr;
    if (op->type == OpType::kFullyConnected || op->type == OpType::kConv2D) return op;
    if (op->type != OpType::kSoftmax && op->type != OpType::kReshape && op->type != OpType::kQuantize && op->type != OpType::kDequantize &&
        op->type != OpType::kMean && op->type != OpType::kAveragePool2D)
      return nullptr;
    tensor = op->inputs[0];
  }
  return nullptr;
}

// Output `index` of `it` as float values (dequantized for int8), averaged over H and W
// when it is NHWC with H * W > 1: `count` values.
void ReadOutput(const Interpreter& it, int index, int count, float* out) {
  const TensorDesc& d = it.output_desc(index);
  const int64_t n = d.num_elements(), positions = n / count;
  const float scale = d.quant.empty() ? 1.0f : d.quant.scale[0];
  const int zp = d.quant.empty() ? 0 : d.quant.zero_point[0];
  const auto* q = static_cast<const int8_t*>(it.output_data(index));
  const auto* f = static_cast<const float*>(it.output_data(index));
  for (int j = 0; j < count; ++j) {
    double sum = 0;
    for (int64_t p = 0; p < positions; ++p) {
      const int64_t i = p * count + j;
      sum += d.dtype == DType::kInt8 ? scale * static_cast<float>(q[i] - zp) : f[i];
    }
    out[j] = static_cast<float>(sum / static_cast<double>(positions));
  }
}

}  // namespace

Expected<std::unique_ptr<Teacher>> Teacher::Load(const std::string& path, int threads) {
  if (threads < 1) return Status::Error("teacher threads must be >= 1");
  auto graph = IsCheckpointPath(path) ? LoadCheckpointGraph(path, std::nullopt) : LoadModelFile(path);
  if (!graph.ok()) return graph.status();
  std::unique_ptr<Teacher> t(new Teacher());
  t->path_ = path;
  t->graph_ = *graph;
  const OpDesc* classifier = Classifier(**graph);
  const int feature_tensor = classifier ? classifier->inputs[0] : -1;
  if (feature_tensor >= 0 && ((*graph)->tensors[feature_tensor].dtype == DType::kFloat32 || (*graph)->tensors[feature_tensor].dtype == DType::kInt8)) {
    // A copy of the graph (constants shared through `storage`) with the features as output 1.
    auto with_features = std::make_shared<Graph>(**graph);
    t->feature_output_ = static_cast<int>(with_features->outputs.size());
    with_features->outputs.push_back(feature_tensor);
    // A FULLY_CONNECTED reads its whole (flattened) input; a 1x1 CONV_2D one pixel's channels.
    const TensorDesc& features = with_features->tensors[feature_tensor];
    t->feature_dim_ = classifier->type == OpType::kFullyConnected ? static_cast<int>(features.num_elements())
                      : features.shape.empty()                   ? 0
                                                                  : features.shape.back();
    t->graph_ = std::move(with_features);
  }
  PCLS_ASSIGN_OR_RETURN(auto norm, ReadNormalizationMetadata(**graph));
  t->normalization_ = norm;
  InterpreterOptions io;
  io.num_threads = 1;
  for (int i = 0; i < threads; ++i) {
    auto it = Interpreter::Create(t->graph_, io);
    if (!it.ok()) return it.status().WithContext(path);
    t->interpreters_.push_back(std::move(it).value());
  }
  const Interpreter& it = *t->interpreters_[0];
  const TensorDesc& in = it.input_desc(0);
  if (it.num_inputs() != 1 || in.shape.size() != 4 || in.shape[1] != in.shape[2] || (in.shape[3] != 1 && in.shape[3] != 3))
    return Status::Error(path + ": a teacher needs one square NHWC image input");
  t->input_size_ = in.shape[1];
  t->input_channels_ = in.shape[3];
  t->num_classes_ = static_cast<int>(it.output_desc(0).num_elements());
  if (t->num_classes_ < 2) return Status::Error(path + ": a teacher needs at least 2 outputs");
  t->outputs_probabilities_ = EndsInSoftmax(*t->graph_);
  return t;
}

Status Teacher::Targets(const uint8_t* images, int n, int size, float temperature, float* out, float* features) {
  if (features && feature_dim_ == 0) return Status::Error(path_ + ": no classifier input found to take features from");
  if (size != input_size_) return Status::Error(path_ + ": teacher input is " + std::to_string(input_size_) + "x" + std::to_string(input_size_) +
                                                ", views are " + std::to_string(size) + "x" + std::to_string(size));
  if (!(temperature > 0)) return Status::Error("temperature must be > 0");
  const int k = num_classes_;
  const size_t image_bytes = static_cast<size_t>(size) * size * 3;
  const int workers = static_cast<int>(interpreters_.size());
  std::vector<Status> errors(workers, Status::Ok());
  // Images are independent: worker w takes images w, w + workers, ... (the result does
  // not depend on the split).
#pragma omp parallel for num_threads(workers) schedule(static, 1)
  for (int w = 0; w < workers; ++w) {
    Interpreter& it = *interpreters_[w];
    Image img;
    img.width = img.height = size;
    img.channels = 3;
    std::vector<double> logit(k);
    for (int i = w; i < n; i += workers) {
      img.pixels.assign(images + i * image_bytes, images + (i + 1) * image_bytes);
      Status s = FillInputTensor(img, it.input_desc(0), it.input_data(0), normalization_);
      if (!s.ok()) {
        errors[w] = s.WithContext(path_);
        break;
      }
      it.Invoke();
      float* row = out + static_cast<size_t>(i) * k;
      ReadOutput(it, 0, k, row);
      if (features) ReadOutput(it, feature_output_, feature_dim_, features + static_cast<size_t>(i) * feature_dim_);
      // Log-probabilities (up to a constant) divided by T, then a stable softmax.
      for (int j = 0; j < k; ++j)
        logit[j] = (outputs_probabilities_ ? std::log(std::max(static_cast<double>(row[j]), 1e-12)) : row[j]) / temperature;
      const double mx = *std::max_element(logit.begin(), logit.end());
      double sum = 0;
      for (int j = 0; j < k; ++j) sum += logit[j] = std::exp(logit[j] - mx);
      for (int j = 0; j < k; ++j) row[j] = static_cast<float>(logit[j] / sum);
    }
  }
  for (const Status& s : errors)
    if (!s.ok()) return s;
  return Status::Ok();
}

int EnsembleFeatureDim(const std::vector<std::unique_ptr<Teacher>>& teachers) {
  int d = 0;
  for (const auto& t : teachers) d += t->feature_dim();
  return d;
}

Status EnsembleTargets(const std::vector<std::unique_ptr<Teacher>>& teachers, const uint8_t* images, int n, int size, float temperature,
                       float* out, float* features) {
  if (teachers.empty()) return Status::Error("no teachers");
  const int k = teachers[0]->num_classes(), total_dim = EnsembleFeatureDim(teachers);
  std::vector<float> one(static_cast<size_t>(n) * k), feat;
  std::fill(out, out + one.size(), 0.0f);
  int offset = 0;  // of this teacher's features in a row of `features`
  for (const auto& t : teachers) {
    if (t->num_classes() != k) return Status::Error(t->path() + ": " + std::to_string(t->num_classes()) + " classes, the first teacher has " + std::to_string(k));
    const int dim = t->feature_dim();
    if (features) feat.resize(static_cast<size_t>(n) * dim);
    PCLS_RETURN_IF_ERROR(t->Targets(images, n, size, temperature, one.data(), features ? feat.data() : nullptr));
    for (size_t i = 0; i < one.size(); ++i) out[i] += one[i];
    if (features)
      for (int i = 0; i < n; ++i) std::copy_n(feat.data() + static_cast<size_t>(i) * dim, dim, features + static_cast<size_t>(i) * total_dim + offset);
    offset += dim;
  }
  const float inv = 1.0f / static_cast<float>(teachers.size());
  for (size_t i = 0; i < one.size(); ++i) out[i] *= inv;
  return Status::Ok();
}

}  // namespace personcls
