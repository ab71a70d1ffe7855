// Grad-CAM (Selvaraju et al., 2017) for float32 classifier graphs.
//
// The feature map A [1,H,W,K] is the output of the last CONV_2D / DEPTHWISE_CONV_2D whose
// output still has more than one spatial position; everything after it is the "head"
// (MEAN, AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED, 1x1 CONV_2D, SOFTMAX, LOGISTIC). The
// runtime computes A (the graph truncated after that op); the head is evaluated again here
// in double together with its backward pass, which gives G = d score_c / dA [1,H,W,K].
// Then w_k = mean_{h,w} G[h,w,k], CAM = ReLU(sum_k w_k A[..,k]) [H,W], divided by its
// maximum (all zeros when the maximum is 0).
//
// The class score is the logit (the input of a final SOFTMAX/LOGISTIC: standard Grad-CAM)
// or the probability (the graph's output). A single-output (sigmoid) model has classes
// 0 and 1 with score_1 = z and score_0 = -z (logit), or p and 1 - p (probability).
// Int8 models are explained through their float twin (explain/float_twin.h).
#pragma once

#include <memory>
#include <vector>

#include "personcls/graph.h"
#include "personcls/interpreter.h"
#include "personcls/status.h"

namespace personcls::explain {

enum class CamScore { kLogit, kProbability };

// Where the head starts: the feature tensor and the ops after it (a chain ending at
// graph output 0).
struct HeadPlan {
  int feature_op = -1;      // op index producing the feature map
  int feature_tensor = -1;  // [1,H,W,K] float32
  std::vector<int> ops;     // op indices after feature_op, in execution order
  bool ends_in_activation = false;  // last op is SOFTMAX or LOGISTIC
};

// Errors: no spatial conv output, a head op outside the supported list, or a head that is
// not a chain (named by op index and type).
Expected<HeadPlan> PlanHead(const Graph& graph);

// The head as a differentiable function of the feature map (double precision). Borrows
// `graph`, which must outlive it.
class Head {
 public:
  Head(const Graph& graph, HeadPlan plan) : graph_(graph), plan_(std::move(plan)) {}
  const HeadPlan& plan() const { return plan_; }
  int num_classes() const;  // outputs of the head; 2 for a single sigmoid output

  // Scores of every class for feature map `a` (feature tensor's element count).
  std::vector<double> Scores(const float* a, CamScore mode) const;
  // d score_cls / d a, same layout as a.
  std::vector<double> Gradient(const float* a, int cls, CamScore mode) const;

 private:
  // Runs the ops (up to the activation in logit mode); values[i] is the input of the i-th
  // op, values.back() its final output.
  std::vector<std::vector<double>> Forward(const float* a, CamScore mode) const;
  size_t NumOps(CamScore mode) const;

  const Graph& graph_;
  HeadPlan plan_;
};

struct GradCamResult {
  int height = 0, width = 0, channels = 0;  // feature map [1,H,W,K]
  int cls = 0;                     // explained class
  std::vector<double> scores;      // class scores in the chosen mode
  std::vector<float> feature;      // A, H*W*K
  std::vector<double> gradient;    // G, H*W*K
  std::vector<double> weights;     // w_k, K
  std::vector<float> cam;          // H*W in [0, 1], row-major
};

// Combines A and G as described above.
void ComputeCam(const std::vector<float>& feature, const std::vector<double>& gradient, int height, int width, int channels,
                std::vector<double>* weights, std::vector<float>* cam);

// Runs a float graph up to the feature map and explains one class.
class GradCam {
 public:
  // `graph` must be float32 (use MakeFloatTwin first for int8 models).
  static Expected<std::unique_ptr<GradCam>> Create(std::shared_ptr<const Graph> graph, InterpreterOptions options = {});

  // The truncated graph's input (same as the full graph's input 0).
  const TensorDesc& input_desc() const { return interpreter_->input_desc(0); }
  void* input_data() { return interpreter_->input_data(0); }

  // Invokes and explains class `cls`, or the top-scoring class when cls < 0. cls must be
  // below head().num_classes() (asserted).
  GradCamResult Explain(int cls, CamScore mode);
  const Head& head() const { return *head_; }

 private:
  GradCam() = default;
  std::shared_ptr<const Graph> graph_, truncated_;
  std::unique_ptr<Interpreter> interpreter_;
  std::unique_ptr<Head> head_;
};

}  // namespace personcls::explain
