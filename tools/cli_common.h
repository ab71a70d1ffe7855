// Shared plumbing of the personcls subcommands: model loading, image listing, running one
// image through a model, labels and output formatting. The CLI is thin: everything here
// calls the library; subcommands only parse flags and print.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "personcls/image.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "personcls/preprocess.h"

namespace personcls {
struct BatchProgress;
}

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
  std::string name;  // the --model path, or "embedded default model"
  std::shared_ptr<const Graph> graph;
  std::unique_ptr<Interpreter> interpreter;
  std::vector<std::string> labels;
  std::optional<InputNormalization> normalization;
  // The final op is a SOFTMAX or LOGISTIC: the outputs are probabilities (else logits).
  bool outputs_probabilities = true;
  // Binary models: decide Person when the Person probability exceeds this; unset: argmax
  // (a single output: probability above 0.5).
  std::optional<double> threshold;
};

LoadedModel LoadModelOrThrow(const ModelOptions& options);

// The input mapping: the model's metadata "normalization", overridden by --input-mean /
// --input-scale (with both flags the metadata is not read). A malformed or non-finite
// value is a CliError naming the model file or the flag.
std::optional<InputNormalization> NormalizationOrThrow(const Graph& graph, const ModelOptions& options);

struct Prediction {
  std::string file;
  int index = 0;      // the decision: argmax, or the threshold's decision (LoadedModel::threshold)
  std::string label;  // labels[index]
  int argmax = 0;     // the highest-scoring class (a single output: Person when above 0.5)
  std::vector<float> scores;  // dequantized output values
  nlohmann::json raw;         // stored output values: ints for int8, floats for float32
  // Binary models: the Person probability (class 1 of 2 outputs, or the single output;
  // through softmax / sigmoid when the model outputs logits).
  std::optional<double> person_score;
  double label_score() const;  // the probability (or score) of `label`
};

// Decodes `path`, fills the input, invokes, reads output 0. Errors name the file.
Expected<Prediction> Classify(LoadedModel& model, const std::string& path);
// The same for an image already decoded; `name` goes into Prediction::file and errors.
Expected<Prediction> ClassifyImage(LoadedModel& model, const Image& image, const std::string& name);

// Checks a --threshold value: in [0, 1]. Throws CliError.
void CheckThreshold(const std::optional<double>& threshold);

// Expands files and directories (recursively, sorted) into image paths.
std::vector<std::string> ExpandImagePaths(const std::vector<std::string>& args);

std::vector<std::string> SplitLabels(const std::string& text);

// {file, label, index, argmax, scores, raw[, person_score][, threshold]}.
nlohmann::json PredictionJson(const Prediction& p, const LoadedModel& model);

// --json output: indented, with bytes that are not UTF-8 (in labels from a model file,
// file names) written as U+FFFD instead of failing.
std::string JsonText(const nlohmann::json& j);

// --quiet / --verbose of the long commands.
enum class Verbosity { kQuiet, kNormal, kVerbose };
struct VerbosityFlags {
  bool quiet = false, verbose = false;
  Verbosity level() const { return quiet ? Verbosity::kQuiet : verbose ? Verbosity::kVerbose : Verbosity::kNormal; }
};

// Progress of a long command on stderr. Quiet: nothing. Normal: on a terminal one live line,
// redrawn at most 10 times a second; otherwise the line every PERSONCLS_PROGRESS_SECONDS
// (default 30) seconds. Verbose: every update as its own line.
class Progress {
 public:
  explicit Progress(Verbosity verbosity);
  ~Progress() { Clear(); }
  // `text` makes the line; it is called only when the line is shown.
  template <typename F>
  void Update(F&& text) {
    if (Due()) Show(text());
  }
  // Erases the live line (before printing a result line); the next Update draws it again.
  void Clear();
  bool tty() const { return tty_; }

 private:
  bool Due();
  void Show(const std::string& line);
  Verbosity verbosity_;
  bool tty_;
  double period_;
  double last_ = -1e30;
  bool drawn_ = false;
};

// "[#####     ] 250/500  12 s, ETA 12 s" (total > 0) for Progress lines.
std::string ProgressCount(size_t done, size_t total, double seconds);

// Throws CliError when `dir` holds a training run (last.safetensors, last_state.safetensors
// or log.csv), so that `train`/`distill --out` never overwrite one by accident.
void RefuseExistingRun(const std::string& dir);

// The live progress line of train and distill: "epoch 3/10 12/40  2.10 it/s  loss 0.4123
// lr 0.01  ETA 35 s". `epoch_seconds` since the epoch began, `run_seconds` since this
// process started training at epoch `start_epoch`.
std::string TrainingProgressLine(const BatchProgress& p, int epochs, int start_epoch, double epoch_seconds, double run_seconds);

// The command line as given (argv joined, quoted where needed), for reports.
void SetCommandLine(int argc, char** argv);
const std::string& CommandLine();

// Adds --model, --threads, --kernels, --input-mean, --input-scale, --labels to `app`.
}  // namespace personcls::cli
