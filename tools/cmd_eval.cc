// personcls eval: accuracy, confusion matrix and per-class precision/recall on a labelled
// dataset in any form `train` reads (data/dataset.h: labels.csv with class indices or names,
// class folders, an image cache), and how much of it the model was trained on (its training
// fingerprint, data/image_fingerprint.h).
#include <fmt/chrono.h>
#include <fmt/core.h>

#include <chrono>
#include <ctime>

#include "commands.h"
#include "data/dataset.h"
#include "data/image_fingerprint.h"
#include "explain/float_twin.h"
#include "explain/gradcam.h"
#include "explain/heatmap.h"
#include "personcls/default_model.h"
#include "personcls/image.h"
#include "report/html_report.h"

namespace personcls::cli {

namespace {

// At most this many misclassified thumbnails (96 px, a few KB each) go into the page.
constexpr size_t kMaxThumbnails = 300;

// The evaluation set: image files with labels, or an image cache's pixels.
struct EvalData {
  std::vector<LabelledFile> files;
  std::optional<Dataset> cache;
  size_t size() const { return cache ? cache->count() : files.size(); }
  const std::string& name(size_t i) const { return cache ? cache->files[i] : files[i].path; }
  int label(size_t i) const { return cache ? cache->labels[i] : files[i].label; }
  Expected<Image> image(size_t i) const {
    if (!cache) return LoadImage(files[i].path);
    Image im{cache->size, cache->size, cache->channels, {}};
    im.pixels.assign(cache->image(i), cache->image(i) + cache->image_bytes());
    return im;
  }
};

EvalData ReadEvalData(const std::string& path, const LoadedModel& model) {
  EvalData d;
  const int k = static_cast<int>(model.labels.size());
  if (IsImageCachePath(path)) {
    const TensorDesc& in = model.interpreter->input_desc(0);
    auto ds = LoadDataset(path, in.shape.size() == 4 ? in.shape[1] : 96, k, in.shape.size() == 4 && in.shape[3] == 1);
    if (!ds.ok()) throw CliError{ds.status().message()};
    d.cache = std::move(ds).value();
  } else {
    auto files = ListLabelledFiles(path, k, model.labels);
    if (!files.ok()) throw CliError{files.status().message()};
    d.files = std::move(files).value();
  }
  return d;
}

// The model's training fingerprint; a malformed one is reported and ignored.
std::optional<ImageFingerprint> ReadFingerprint(const LoadedModel& model, bool quiet) {
  auto it = model.graph->metadata.find(kFingerprintMetadataKey);
  if (it == model.graph->metadata.end()) return std::nullopt;
  auto fp = ImageFingerprint::Parse(std::string(it->second.begin(), it->second.end()));
  if (fp.ok()) return std::move(fp).value();
  if (!quiet) fmt::print(stderr, "personcls: warning: {}: {}; training overlap unknown\n", model.name, fp.status().message());
  return std::nullopt;
}

std::string ModelSha256(const ModelOptions& options) {
  if (options.model.empty()) {
    const auto bytes = DefaultModelTflite();
    return Sha256Hex(bytes.data(), bytes.size());
  }
  auto bytes = ReadFileBytes(options.model);
  return bytes.ok() ? Sha256Hex(bytes->data(), bytes->size()) : "";
}

std::string AccuracyEstimate(const LoadedModel& model, const ModelOptions& options) {
  if (options.model.empty()) return DefaultModelInfo().accuracy;
  auto it = model.graph->metadata.find("accuracy_estimate");
  return it == model.graph->metadata.end() ? "" : std::string(it->second.begin(), it->second.end());
}

// Thumbnails of the misclassified images, with the Grad-CAM of the predicted class drawn
// over them when the model allows it (a float twin with a supported head).
void AddThumbnails(const EvalData& data, const std::vector<size_t>& index_of, const LoadedModel& model, const ModelOptions& options,
                   std::vector<report::MisclassifiedImage>& shown) {
  std::unique_ptr<explain::GradCam> cam;
  std::optional<InputNormalization> normalization;
  if (auto twin = explain::MakeFloatTwin(model.graph); twin.ok()) {
    InterpreterOptions io;
    io.num_threads = options.threads;
    if (auto c = explain::GradCam::Create(twin->graph, io); c.ok()) cam = std::move(c).value();
    normalization = model.normalization ? model.normalization : twin->input_normalization;
  }
  for (size_t i = 0; i < shown.size(); ++i) {
    report::MisclassifiedImage& m = shown[i];
    auto image = data.image(index_of[i]);  // it decoded a moment ago; a failure just leaves no picture
    if (!image.ok()) continue;
    Image picture = std::move(image).value();
    if (cam && m.predicted_index < cam->head().num_classes() &&
        FillInputTensor(picture, cam->input_desc(), cam->input_data(), normalization).ok()) {
      const explain::GradCamResult r = cam->Explain(m.predicted_index, explain::CamScore::kLogit);
      picture = explain::OverlayHeatmap(picture, r.cam, r.height, r.width);
    }
    auto png = report::ThumbnailPng(picture, 96);
    if (png.ok()) m.thumbnail_png = std::move(png).value();
  }
}

}  // namespace

void RegisterEval(CLI::App& app) {
  struct Args {
    ModelOptions model;
    VerbosityFlags verbosity;
    std::string data;
    bool json = false;
    std::string report;
    std::optional<double> threshold;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Accuracy of a model on a labelled dataset (labels.csv with class indices or names, class folders, or an image cache)");
  AddModelOptions(*cmd, args->model, true, /*model_required=*/false);  // default: the embedded model
  cmd->add_option("--data,-d", args->data,
                  "Labelled images: DIR/labels.csv (file,label: a class index or name; paths relative to DIR or absolute), DIR/<class>/*, "
                  "or an image cache DIR/SPLIT of `vww build`")
      ->required();
  cmd->add_flag("--json", args->json, "Print JSON: accuracy, confusion, per_class, training_overlap, predictions");
  cmd->add_option("--report", args->report,
                  "Also write a self-contained HTML report (ROC and precision-recall curves, thresholds, misclassified images with "
                  "Grad-CAM, every prediction)");
  cmd->add_option("--threshold", args->threshold, "Binary models: predict Person when its probability exceeds T in [0, 1] (default: argmax)");
  AddVerbosityFlags(*cmd, args->verbosity);
  cmd->callback([args] {
    CheckThreshold(args->threshold);
    LoadedModel model = LoadModelOrThrow(args->model);
    model.threshold = args->threshold;
    const int k = static_cast<int>(model.labels.size());
    if (args->threshold && k != 2) throw CliError{fmt::format("--threshold needs a binary model, this one has {} classes", k)};
    const EvalData data = ReadEvalData(args->data, model);
    const Verbosity verbosity = args->verbosity.level();
    const std::optional<ImageFingerprint> fingerprint = ReadFingerprint(model, verbosity == Verbosity::kQuiet);
    std::vector<std::vector<int64_t>> confusion(k, std::vector<int64_t>(k, 0));  // [true][predicted]
    nlohmann::json predictions = nlohmann::json::array();
    report::EvalSummary summary;
    std::vector<size_t> misclassified_index;
    report::TrainingOverlap overlap;
    Progress progress(verbosity);
    const auto start = std::chrono::steady_clock::now();
    int64_t correct = 0;
    for (size_t i = 0; i < data.size(); ++i) {
      auto image = data.image(i);
      if (!image.ok()) throw CliError{image.status().message()};
      auto p = ClassifyImage(model, *image, data.name(i));
      if (!p.ok()) throw CliError{p.status().message()};
      const int truth = data.label(i);
      if (fingerprint) {
        const ImageFingerprint::Match match = fingerprint->Lookup(DatasetImage(*image, fingerprint->size(), fingerprint->channels()).pixels.data());
        overlap.checked += match != ImageFingerprint::Match::kNotSampled;
        overlap.matched += match == ImageFingerprint::Match::kPresent;
      }
      ++confusion[truth][p->index];
      correct += p->index == truth;
      if (p->person_score) {
        summary.positive_scores.push_back(*p->person_score);
        summary.positive_truth.push_back(truth == 1);
      }
      summary.predictions.push_back({p->file, truth, p->index, p->label_score()});
      if (p->index != truth) {
        summary.misclassified.push_back({p->file, truth, p->index, p->label_score(), {}});
        misclassified_index.push_back(i);
      }
      nlohmann::json j = PredictionJson(*p, model);
      j["true_index"] = truth;
      predictions.push_back(std::move(j));
      progress.Update([&] {
        std::string line = "eval: " + ProgressCount(i + 1, data.size(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (verbosity == Verbosity::kVerbose) line += fmt::format("  {}: {} (true {})", p->file, p->label, model.labels[truth]);
        return line;
      });
    }
    progress.Clear();
    const size_t n = data.size();
    const double accuracy = static_cast<double>(correct) / static_cast<double>(n);
    if (fingerprint) {
      overlap.images = static_cast<int64_t>(n);
      overlap.training_images = fingerprint->images();
      overlap.sampled_fraction = fingerprint->sampled_fraction();
      overlap.false_match_rate = fingerprint->false_match_rate();
      summary.overlap = overlap;
    }
    const std::string estimate = AccuracyEstimate(model, args->model);
    if (!args->report.empty()) {
      summary.model = model.name;
      summary.data = args->data;
      summary.date = fmt::format("{:%Y-%m-%d %H:%M} UTC", fmt::gmtime(std::time(nullptr)));
      summary.version = "personcls " PERSONCLS_VERSION;
      summary.model_sha256 = ModelSha256(args->model);
      summary.command_line = CommandLine();
      summary.threshold = args->threshold ? fmt::format("Person when its probability > {}", *args->threshold) : "argmax";
      summary.accuracy_estimate = estimate;
      summary.labels = model.labels;
      summary.confusion = confusion;
      summary.misclassified_total = static_cast<int64_t>(summary.misclassified.size());
      // Most confident mistakes first; thumbnails for the first kMaxThumbnails.
      std::vector<size_t> order(summary.misclassified.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const auto &x = summary.misclassified[a], &y = summary.misclassified[b];
        return x.predicted_score != y.predicted_score ? x.predicted_score > y.predicted_score : x.file < y.file;
      });
      if (order.size() > kMaxThumbnails) order.resize(kMaxThumbnails);
      std::vector<report::MisclassifiedImage> shown;
      std::vector<size_t> shown_index;
      for (size_t i : order) {
        shown.push_back(summary.misclassified[i]);
        shown_index.push_back(misclassified_index[i]);
      }
      AddThumbnails(data, shown_index, model, args->model, shown);
      summary.misclassified = std::move(shown);
      if (summary.labels.size() != 2) summary.positive_scores.clear();
      Status s = report::WriteHtmlReport(args->report, summary);
      if (!s.ok()) throw CliError{s.message()};
    }
    nlohmann::json per_class = nlohmann::json::array();
    for (int c = 0; c < k; ++c) {
      int64_t tp = confusion[c][c], predicted = 0, actual = 0;
      for (int o = 0; o < k; ++o) {
        predicted += confusion[o][c];
        actual += confusion[c][o];
      }
      per_class.push_back({{"label", model.labels[c]},
                           {"precision", predicted ? static_cast<double>(tp) / predicted : 0.0},
                           {"recall", actual ? static_cast<double>(tp) / actual : 0.0},
                           {"support", actual}});
    }
    const bool warn = summary.overlap && summary.overlap->significant();
    if (args->json) {
      nlohmann::json out{{"model", args->model.model}, {"data", args->data},  {"images", n},
                         {"accuracy", accuracy},       {"correct", correct},    {"confusion", confusion},
                         {"labels", model.labels},     {"per_class", per_class}};
      out["threshold"] = args->threshold ? nlohmann::json(*args->threshold) : nlohmann::json(nullptr);
      out["training_overlap"] = nullptr;
      if (summary.overlap)
        out["training_overlap"] = {{"images", overlap.images},
                                   {"checked", overlap.checked},
                                   {"matched", overlap.matched},
                                   {"estimated", overlap.estimated()},
                                   {"training_images", overlap.training_images},
                                   {"sampled_fraction", overlap.sampled_fraction},
                                   {"false_match_rate", overlap.false_match_rate},
                                   {"significant", warn}};
      out["accuracy_estimate"] = estimate.empty() ? nlohmann::json(nullptr) : nlohmann::json(estimate);
      out["predictions"] = std::move(predictions);
      fmt::print("{}\n", JsonText(out));
      if (warn && verbosity != Verbosity::kQuiet) fmt::print(stderr, "personcls: warning: {}\n", report::OverlapText(overlap));
      return;
    }
    fmt::print("images:   {}\naccuracy: {:.2f} % ({} / {})\n", n, 100.0 * accuracy, correct, n);
    if (warn) {
      fmt::print("WARNING:  {}: this accuracy is measured on training images, not an estimate for new ones\n", report::OverlapText(overlap));
      if (!estimate.empty()) fmt::print("estimate: {}\n", estimate);
    } else if (summary.overlap) {
      fmt::print("overlap:  {}\n", report::OverlapText(overlap));
    } else {
      fmt::print("overlap:  unknown (the model carries no training fingerprint)\n");
    }
    fmt::print("\nconfusion (rows: true, columns: predicted)\n");
    size_t width = 6;
    for (const auto& l : model.labels) width = std::max(width, l.size());
    fmt::print("{:>{}}", "", width + 2);
    for (int c = 0; c < k; ++c) fmt::print("  {:>{}}", model.labels[c], width);
    fmt::print("\n");
    for (int r = 0; r < k; ++r) {
      fmt::print("{:>{}}  ", model.labels[r], width);
      for (int c = 0; c < k; ++c) fmt::print("  {:>{}}", confusion[r][c], width);
      fmt::print("\n");
    }
    fmt::print("\n{:>{}}  {:>9}  {:>9}  {:>7}\n", "class", width, "precision", "recall", "support");
    for (const auto& pc : per_class)
      fmt::print("{:>{}}  {:>8.2f}%  {:>8.2f}%  {:>7}\n", pc["label"].get<std::string>(), width, 100.0 * pc["precision"].get<double>(),
                 100.0 * pc["recall"].get<double>(), pc["support"].get<int64_t>());
  });
}

}  // namespace personcls::cli
