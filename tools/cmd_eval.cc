// personcls eval: accuracy, confusion matrix and per-class precision/recall on a labelled
// directory (DIR/labels.csv with lines "file,label", label = class index).
#include <fmt/chrono.h>
#include <fmt/core.h>

#include <ctime>


#include "commands.h"
#include "nn/dataset.h"
#include "personcls/image.h"
#include "report/html_report.h"

namespace personcls::cli {

namespace {

// At most this many misclassified thumbnails (96 px, a few KB each) go into the page.
constexpr size_t kMaxThumbnails = 300;

template <typename Args>
void WriteReport(const Args& args, const LoadedModel& model, const std::vector<std::vector<int64_t>>& confusion,
                 report::EvalSummary& summary) {
  summary.model = args.model.model.empty() ? "embedded default model" : args.model.model;
  summary.data = args.data;
  summary.date = fmt::format("{:%Y-%m-%d %H:%M} UTC", fmt::gmtime(std::time(nullptr)));
  summary.labels = model.labels;
  summary.confusion = confusion;
  summary.misclassified_total = static_cast<int64_t>(summary.misclassified.size());
  if (summary.misclassified.size() > kMaxThumbnails) summary.misclassified.resize(kMaxThumbnails);
  for (report::MisclassifiedImage& m : summary.misclassified) {
    auto image = LoadImage(m.file);  // it decoded a moment ago; a failure just leaves no picture
    if (!image.ok()) continue;
    auto png = report::ThumbnailPng(*image, 96);
    if (png.ok()) m.thumbnail_png = std::move(png).value();
  }
  if (summary.labels.size() != 2) summary.positive_scores.clear();
  Status s = report::WriteHtmlReport(args.report, summary);
  if (!s.ok()) throw CliError{s.message()};
}

}  // namespace

void RegisterEval(CLI::App& app) {
  struct Args {
    ModelOptions model;
    std::string data;
    bool json = false;
    std::string report;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval", "Accuracy of a model on a labelled directory (DIR/labels.csv: file,label)");
  AddModelOptions(*cmd, args->model, true, /*model_required=*/false);  // default: the embedded model
  cmd->add_option("--data,-d", args->data, "Directory holding labels.csv and the images")->required();
  cmd->add_flag("--json", args->json, "Print JSON: accuracy, confusion, per_class, predictions");
  cmd->add_option("--report", args->report, "Also write a self-contained HTML report (ROC, thresholds, misclassified images)");
  cmd->callback([args] {
    LoadedModel model = LoadModelOrThrow(args->model);
    const int k = static_cast<int>(model.labels.size());
    auto read = ReadLabelsCsv(args->data, k);
    if (!read.ok()) throw CliError{read.status().message()};
    const std::vector<LabelledFile>& files = *read;
    std::vector<std::vector<int64_t>> confusion(k, std::vector<int64_t>(k, 0));  // [true][predicted]
    nlohmann::json predictions = nlohmann::json::array();
    ProgressBar bar(files.size());
    int64_t correct = 0;
    report::EvalSummary summary;
    for (size_t i = 0; i < files.size(); ++i) {
      auto p = Classify(model, files[i].path);
      if (!p.ok()) throw CliError{p.status().message()};
      ++confusion[files[i].label][p->index];
      correct += p->index == files[i].label;
      if (p->person_score) {
        summary.positive_scores.push_back(*p->person_score);
        summary.positive_truth.push_back(files[i].label == 1);
      }
      if (p->index != files[i].label)
        summary.misclassified.push_back({files[i].path, files[i].label, p->index, p->scores.size() == 1 ? (p->index ? *p->person_score : 1.0 - *p->person_score) : p->scores[p->index], {}});
      nlohmann::json j = PredictionJson(*p);
      j["true_index"] = files[i].label;
      predictions.push_back(std::move(j));
      bar.Update(i + 1);
    }
    bar.Finish();
    if (!args->report.empty()) WriteReport(*args, model, confusion, summary);
    const double accuracy = static_cast<double>(correct) / static_cast<double>(files.size());
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
    if (args->json) {
      nlohmann::json out{{"model", args->model.model}, {"data", args->data},  {"images", files.size()},
                         {"accuracy", accuracy},       {"correct", correct},    {"confusion", confusion},
                         {"labels", model.labels},     {"per_class", per_class}, {"predictions", predictions}};
      fmt::print("{}\n", JsonText(out));
      return;
    }
    fmt::print("images:   {}\naccuracy: {:.2f} % ({} / {})\n\nconfusion (rows: true, columns: predicted)\n", files.size(), 100.0 * accuracy,
               correct, files.size());
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
