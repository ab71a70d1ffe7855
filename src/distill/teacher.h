// A trained model run through the personcls runtime as a distillation teacher: any model
// the CLI runs (.tflite float32 or int8, personcls checkpoints), one Interpreter per
// OpenMP thread so a batch of views is labelled in parallel.
//
// Targets at temperature T: with the teacher's class probabilities p (its SOFTMAX output,
// dequantized for int8; a softmax is applied when the graph ends in logits),
//   q = softmax(log(p) / T)                 (T = 1: q = p)
// which equals softmax(logits / T) because log p differs from the logits by a constant.
// An ensemble's target is the mean of its teachers' q.
//
// Features (for feature distillation): the input of the teacher's classifier, the last
// FULLY_CONNECTED or CONV_2D before the output (reached back through SOFTMAX, RESHAPE,
// QUANTIZE, DEQUANTIZE, MEAN and AVERAGE_POOL_2D), dequantized for int8: [feature_dim]
// per image. A FULLY_CONNECTED's input is taken whole (flattened); a CONV_2D's feature
// map is averaged over H and W (its channels). Load() makes that tensor a
// second graph output so the planner keeps it until the end of Invoke.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/interpreter.h"
#include "personcls/preprocess.h"
#include "personcls/status.h"

namespace personcls {

class Teacher {
 public:
  // Loads `path` and prepares `threads` interpreters (>= 1). Errors name the file.
  static Expected<std::unique_ptr<Teacher>> Load(const std::string& path, int threads);

  const std::string& path() const { return path_; }
  int num_classes() const { return num_classes_; }
  int input_size() const { return input_size_; }
  int input_channels() const { return input_channels_; }
  bool outputs_probabilities() const { return outputs_probabilities_; }
  // Length of a feature vector; 0 when no classifier input was found.
  int feature_dim() const { return feature_dim_; }

  // images: n uint8 RGB HWC images of size x size (the teacher's input size); out: [n, K]
  // targets at `temperature`; features (optional): [n, feature_dim]. Runs up to `threads`
  // images at a time. Errors on a size mismatch, or features asked of a teacher without.
  Status Targets(const uint8_t* images, int n, int size, float temperature, float* out, float* features = nullptr);

 private:
  Teacher() = default;
  std::string path_;
  std::shared_ptr<const Graph> graph_;
  std::vector<std::unique_ptr<Interpreter>> interpreters_;  // one per thread
  std::optional<InputNormalization> normalization_;
  int num_classes_ = 0, input_size_ = 0, input_channels_ = 0;
  int feature_output_ = -1, feature_dim_ = 0;  // graph output index of the features
  bool outputs_probabilities_ = false;
};

// The mean of every teacher's targets: out [n, K]. All teachers must have K classes.
// features (optional): [n, sum of feature_dim], the teachers' features side by side in
// the order of `teachers`.
Status EnsembleTargets(const std::vector<std::unique_ptr<Teacher>>& teachers, const uint8_t* images, int n, int size,
                       float temperature, float* out, float* features = nullptr);
// Sum of the teachers' feature_dim().
int EnsembleFeatureDim(const std::vector<std::unique_ptr<Teacher>>& teachers);

}  // namespace personcls
