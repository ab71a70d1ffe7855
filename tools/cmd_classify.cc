// personcls classify: one line (or JSON object) per image, then a summary line.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "commands.h"

namespace personcls::cli {

void RegisterClassify(CLI::App& app) {
  struct Args {
    ModelOptions model;
    std::vector<std::string> inputs;
    bool json = false;
    std::optional<double> threshold;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("classify", "Classify images (JPEG, PNG, BMP, PPM/PGM, raw 96x96x3 .bin) or directories of them");
  AddModelOptions(*cmd, args->model, true, /*model_required=*/false);  // default: the embedded model
  cmd->add_option("inputs", args->inputs, "Image files or directories (searched recursively)")->required();
  cmd->add_flag("--json", args->json, "Print a JSON array of {file, label, index, scores, raw, decision}");
  cmd->add_option("--threshold", args->threshold,
                  "Binary models: Person when its score exceeds T (default: argmax; a single sigmoid output: 0.5)");
  cmd->callback([args] {
    LoadedModel model = LoadModelOrThrow(args->model);
    const std::vector<std::string> paths = ExpandImagePaths(args->inputs);
    if (paths.empty()) throw CliError{"no images found"};
    nlohmann::json out = nlohmann::json::array();
    int failures = 0, persons = 0;
    bool binary = false;
    for (const std::string& path : paths) {
      auto p = Classify(model, path);
      if (!p.ok()) {
        fmt::print(stderr, "personcls: error: {}\n", p.status().message());
        ++failures;
        continue;
      }
      if (args->threshold && !p->person_score)
        throw CliError{fmt::format("--threshold needs a binary model (2 outputs or one), this one has {} classes", p->scores.size())};
      binary = p->person_score.has_value();
      // The decision: thresholded Person score, or the argmax Classify made.
      const int decision = args->threshold ? (*p->person_score > *args->threshold ? 1 : 0) : p->index;
      persons += binary && decision == 1;
      if (args->json) {
        nlohmann::json j = PredictionJson(*p);
        j["decision"] = model.labels[decision];
        if (args->threshold) j["threshold"] = *args->threshold;
        out.push_back(std::move(j));
      } else {
        // The printed probability is that of the printed label.
        const double score = p->scores.size() == 1 ? (decision == 1 ? *p->person_score : 1.0 - *p->person_score) : p->scores[decision];
        fmt::print("{}\t{}\t{:.4f}\n", p->file, model.labels[decision], score);
      }
    }
    if (args->json) {
      fmt::print("{}\n", JsonText(out));
    } else if (paths.size() > 1 || std::any_of(args->inputs.begin(), args->inputs.end(), [](const std::string& a) {
                 std::error_code ec;
                 return std::filesystem::is_directory(a, ec);
               })) {
      if (binary)
        fmt::print("{} images, {} persons, {} errors\n", paths.size(), persons, failures);
      else
        fmt::print("{} images, {} errors\n", paths.size(), failures);
    }
    if (failures) throw CliError{fmt::format("{} of {} images could not be classified", failures, paths.size())};
  });
}

}  // namespace personcls::cli
