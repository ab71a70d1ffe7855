// Shared plumbing of the personcls subcommands: model loading, image listing, running one
// image through a model, labels and output formatting. The CLI is thin: everything here
// calls the library; subcommands only parse flags and print.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "personcls/preprocess.h"

namespace personcls::cli {

// Thrown by subcommands to end with a one-line error and exit code 1.
struct CliError {
  std::string message;
};

// Options every model-running subcommand takes.
struct ModelOptions {
  std::string model;
  int threads = 1;
  std::string kernels = "fast";  // fast | ref
  std::optional<float> input_mean;
  std::optional<float> input_scale;
  std::string labels;  // comma-separated; empty: model metadata or defaults
  std::optional<std::string> arch;  // checkpoints: architecture override (else inferred)
};

struct LoadedModel {
  std::shared_ptr<const Graph> graph;
  std::unique_ptr<Interpreter> interpreter;
  std::vector<std::string> labels;
  std::optional<InputNormalization> normalization;
  // A single-output model is binary ("Not a person", "Person"): Person when the output
  // exceeds this (0.5 after a LOGISTIC, else 0 for a raw logit).
  double single_output_threshold = 0.5;
};

LoadedModel LoadModelOrThrow(const ModelOptions& options);

// The input mapping: the model's metadata "normalization", overridden by --input-mean /
// --input-scale (with both flags the metadata is not read). A malformed or non-finite
// value is a CliError naming the model file or the flag.
std::optional<InputNormalization> NormalizationOrThrow(const Graph& graph, const ModelOptions& options);

struct Prediction {
  std::string file;
  int index = 0;
  std::string label;
  std::vector<float> scores;  // dequantized output values
  nlohmann::json raw;         // stored output values: ints for int8, floats for float32
  // Binary models: the Person score (class 1's score of 2 outputs, or the single output).
  std::optional<double> person_score;
};

// Decodes `path`, fills the input, invokes, reads output 0. Errors name the file.
Expected<Prediction> Classify(LoadedModel& model, const std::string& path);

// Expands files and directories (recursively, sorted) into image paths.
std::vector<std::string> ExpandImagePaths(const std::vector<std::string>& args);

std::vector<std::string> SplitLabels(const std::string& text);

nlohmann::json PredictionJson(const Prediction& p);

// --json output: indented, with bytes that are not UTF-8 (in labels from a model file,
// file names) written as U+FFFD instead of failing.
std::string JsonText(const nlohmann::json& j);

// A progress bar on stderr, drawn only when stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(size_t total);
  void Update(size_t done);
  void Finish();

 private:
  size_t total_;
  bool enabled_;
};

// Adds --model, --threads, --kernels, --input-mean, --input-scale, --labels to `app`.
}  // namespace personcls::cli
