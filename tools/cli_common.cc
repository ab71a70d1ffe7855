#include "cli_common.h"

#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>

#include "personcls/checkpoint.h"
#include "personcls/default_model.h"
#include "nn/trainer.h"
#include "personcls/image.h"

namespace personcls::cli {

namespace fs = std::filesystem;

std::vector<std::string> SplitLabels(const std::string& text) {
  std::vector<std::string> labels;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const size_t end = comma == std::string::npos ? text.size() : comma;
    std::string label = text.substr(start, end - start);
    const size_t b = label.find_first_not_of(" \t"), e = label.find_last_not_of(" \t");
    labels.push_back(b == std::string::npos ? "" : label.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return labels;
}

LoadedModel LoadModelOrThrow(const ModelOptions& options) {
  if (options.threads < 1 || options.threads > 256) throw CliError{"--threads must be 1..256"};
  if (options.kernels != "fast" && options.kernels != "ref") throw CliError{"--kernels must be 'fast' or 'ref'"};
  // No --model: the embedded default model (include/personcls/default_model.h).
  auto graph = options.model.empty()               ? LoadDefaultModel()
               : IsCheckpointPath(options.model) ? LoadCheckpointGraph(options.model, options.arch)
                                                 : LoadModelFile(options.model);
  if (!graph.ok()) throw CliError{graph.status().message()};
  InterpreterOptions io;
  io.num_threads = options.threads;
  io.kernels = options.kernels == "ref" ? KernelSet::kReference : KernelSet::kFast;
  auto interpreter = Interpreter::Create(*graph, io);
  if (!interpreter.ok()) throw CliError{options.model + ": " + interpreter.status().message()};
  LoadedModel m;
  m.name = options.model.empty() ? "embedded default model" : options.model;
  m.graph = *graph;
  m.interpreter = std::move(interpreter).value();
  if (m.interpreter->num_inputs() != 1 || m.interpreter->num_outputs() < 1)
    throw CliError{options.model + ": expected one input tensor"};
  const int64_t classes = m.interpreter->output_desc(0).num_elements();
  // Where the labels came from, for the message when their count is wrong: the flag, or
  // the model file's metadata (then the file is named, not a flag that was not given).
  std::string labels_from = "--labels";
  if (!options.labels.empty()) {
    m.labels = SplitLabels(options.labels);
  } else if (auto it = m.graph->metadata.find("labels"); it != m.graph->metadata.end()) {
    m.labels = SplitLabels(std::string(it->second.begin(), it->second.end()));
    labels_from = (options.model.empty() ? std::string("embedded default model") : options.model) + ": metadata 'labels'";
  } else if (classes == 2 || classes == 1) {
    m.labels = {"Not a person", "Person"};
  }
  if (m.labels.empty())
    for (int64_t i = 0; i < classes; ++i) m.labels.push_back(std::to_string(i));
  if (classes == 1 && m.labels.size() != 2)
    throw CliError{labels_from + " has " + std::to_string(m.labels.size()) + " labels but the model (one output) has 2 classes"};
  if (classes != 1 && static_cast<int64_t>(m.labels.size()) != classes)
    throw CliError{labels_from + " has " + std::to_string(m.labels.size()) + " labels but the model has " + std::to_string(classes) + " outputs"};
  for (const OpDesc& op : m.graph->ops)
    if (op.outputs[0] == m.graph->outputs[0]) m.outputs_probabilities = op.type == OpType::kLogistic || op.type == OpType::kSoftmax;
  // Model metadata "normalization" = "mean=M,scale=S" (written by personcls exporters)
  // sets the input mapping; --input-mean/--input-scale override it.
  m.normalization = NormalizationOrThrow(*m.graph, options);
  return m;
}

std::optional<InputNormalization> NormalizationOrThrow(const Graph& graph, const ModelOptions& options) {
  if (options.input_mean && options.input_scale) {  // both given: the metadata is not used, even if bad
    const InputNormalization n{*options.input_mean, *options.input_scale};
    if (!std::isfinite(n.mean)) throw CliError{"--input-mean must be a finite number"};
    if (!(std::isfinite(n.scale) && n.scale > 0)) throw CliError{"--input-scale must be a finite positive number"};
    return n;
  }
  auto norm = ReadNormalizationMetadata(graph);
  if (!norm.ok()) throw CliError{norm.status().WithContext(options.model.empty() ? "embedded default model" : options.model).message()};
  if (!options.input_mean && !options.input_scale) return *norm;
  InputNormalization n = norm->value_or(InputNormalization{});
  if (options.input_mean) n.mean = *options.input_mean;
  if (options.input_scale) n.scale = *options.input_scale;
  if (options.input_mean && !std::isfinite(n.mean)) throw CliError{"--input-mean must be a finite number"};
  if (options.input_scale && !(std::isfinite(n.scale) && n.scale > 0)) throw CliError{"--input-scale must be a finite positive number"};
  return n;
}

Expected<Prediction> Classify(LoadedModel& model, const std::string& path) {
  auto image = LoadImage(path);
  if (!image.ok()) return image.status();
  return ClassifyImage(model, *image, path);
}

Expected<Prediction> ClassifyImage(LoadedModel& model, const Image& image, const std::string& name) {
  Interpreter& it = *model.interpreter;
  Status s = FillInputTensor(image, it.input_desc(0), it.input_data(0), model.normalization);
  if (!s.ok()) return s.WithContext(name);
  it.Invoke();
  const TensorDesc& out = it.output_desc(0);
  Prediction p;
  p.file = name;
  p.raw = nlohmann::json::array();
  const int64_t n = out.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    if (out.dtype == DType::kInt8) {
      const int q = static_cast<const int8_t*>(it.output_data(0))[i];
      const float scale = out.quant.empty() ? 1.0f : out.quant.scale[0];
      const int zp = out.quant.empty() ? 0 : out.quant.zero_point[0];
      p.scores.push_back(scale * static_cast<float>(q - zp));
      p.raw.push_back(q);
    } else {
      const float v = static_cast<const float*>(it.output_data(0))[i];
      p.scores.push_back(v);
      p.raw.push_back(v);
    }
  }
  // The Person probability of binary models; logits go through sigmoid / softmax.
  if (n == 1) p.person_score = model.outputs_probabilities ? p.scores[0] : 1.0 / (1.0 + std::exp(-static_cast<double>(p.scores[0])));
  if (n == 2)
    p.person_score = model.outputs_probabilities ? p.scores[1] : 1.0 / (1.0 + std::exp(static_cast<double>(p.scores[0]) - p.scores[1]));
  if (n == 1) {
    p.argmax = *p.person_score > 0.5 ? 1 : 0;
  } else {
    // argmax, first index on ties (as the goldens are scored)
    p.argmax = static_cast<int>(std::max_element(p.scores.begin(), p.scores.end()) - p.scores.begin());
  }
  p.index = model.threshold && p.person_score ? (*p.person_score > *model.threshold ? 1 : 0) : p.argmax;
  p.label = model.labels[p.index];
  return p;
}

double Prediction::label_score() const {
  if (person_score) return index == 1 ? *person_score : 1.0 - *person_score;
  return scores[index];
}

void CheckThreshold(const std::optional<double>& threshold) {
  if (threshold && !(*threshold >= 0.0 && *threshold <= 1.0))
    throw CliError{fmt::format("--threshold must be in [0, 1] (a Person probability), not {}", *threshold)};
}

std::vector<std::string> ExpandImagePaths(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(arg, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && HasImageExtension(it->path().string())) found.push_back(it->path().string());
      }
      if (ec) throw CliError{arg + ": cannot read directory: " + ec.message()};
      std::sort(found.begin(), found.end());
      paths.insert(paths.end(), found.begin(), found.end());
    } else {
      paths.push_back(arg);  // a missing file is reported when it is read
    }
  }
  return paths;
}

nlohmann::json PredictionJson(const Prediction& p, const LoadedModel& model) {
  nlohmann::json j{{"file", p.file}, {"label", p.label}, {"index", p.index}, {"argmax", model.labels[p.argmax]},
                   {"scores", p.scores}, {"raw", p.raw}};
  if (p.person_score) j["person_score"] = *p.person_score;
  if (model.threshold) j["threshold"] = *model.threshold;
  return j;
}

std::string JsonText(const nlohmann::json& j) { return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace); }

namespace {

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string g_command_line;

}  // namespace

Progress::Progress(Verbosity verbosity) : verbosity_(verbosity), tty_(isatty(STDERR_FILENO) != 0), period_(30.0) {
  if (const char* env = std::getenv("PERSONCLS_PROGRESS_SECONDS")) period_ = std::max(0.0, std::atof(env));
  if (tty_ && verbosity_ == Verbosity::kNormal) period_ = 0.1;
}

bool Progress::Due() {
  if (verbosity_ == Verbosity::kQuiet) return false;
  if (verbosity_ == Verbosity::kVerbose) return true;
  const double now = Now();
  if (last_ > -1e29 && now - last_ < period_) return false;
  if (last_ <= -1e29 && !tty_) {  // the first periodic line comes after one period
    last_ = now;
    return period_ == 0;
  }
  last_ = now;
  return true;
}

void Progress::Show(const std::string& line) {
  if (tty_ && verbosity_ == Verbosity::kNormal) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    drawn_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::Clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
  last_ = -1e30;
}

std::string ProgressCount(size_t done, size_t total, double seconds) {
  constexpr int kWidth = 30;
  const int filled = total ? static_cast<int>(kWidth * done / total) : 0;
  std::string s = fmt::format("[{:#<{}}{:<{}}] {}/{}  {:.0f} s", "", filled, "", kWidth - filled, done, total, seconds);
  if (done > 0 && done < total) s += fmt::format(", ETA {:.0f} s", seconds / done * (total - done));
  return s;
}

void RefuseExistingRun(const std::string& dir) {
  for (const char* file : {"last.safetensors", "last_state.safetensors", "log.csv"}) {
    std::error_code ec;
    if (fs::exists(fs::path(dir) / file, ec))
      throw CliError{fmt::format("{}: holds a run ({}); give --resume to continue it or --force to start over", dir, file)};
  }
}

std::string TrainingProgressLine(const BatchProgress& p, int epochs, int start_epoch, double epoch_seconds, double run_seconds) {
  const double its = epoch_seconds > 0 ? p.batch / epoch_seconds : 0;
  const double done = (p.epoch - start_epoch) + static_cast<double>(p.batch) / p.batches;
  const double eta = done > 0 ? run_seconds / done * (epochs - start_epoch - done) : 0;
  return fmt::format("epoch {}/{} {}/{}  {:.2f} it/s  loss {:.4f}  lr {:.3g}  ETA {:.0f} s", p.epoch + 1, epochs, p.batch, p.batches, its, p.loss, p.lr,
                     eta);
}

void SetCommandLine(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@%") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    g_command_line += (i ? " " : "") + a;
  }
}

const std::string& CommandLine() { return g_command_line; }

}  // namespace personcls::cli
