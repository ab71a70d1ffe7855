// personcls classify: one line (or JSON object) per image, then a summary line.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "commands.h"

namespace personcls::cli {

void RegisterClassify(CLI::App& app) {
  struct Args {
    ModelOptions model;
    VerbosityFlags verbosity;
    std::vector<std::string> inputs;
    bool json = false;
    std::optional<double> threshold;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("classify", "Classify images (JPEG, PNG, BMP, PPM/PGM, raw 96x96x3 .bin) or directories of them");
  AddModelOptions(*cmd, args->model, true, /*model_required=*/false);  // default: the embedded model
  cmd->add_option("inputs", args->inputs, "Image files or directories (searched recursively)")->required();
  cmd->add_flag("--json", args->json,
                "Print a JSON array of {file, label, index, argmax, scores, raw, person_score (binary models), threshold (with --threshold)}");
  cmd->add_option("--threshold", args->threshold,
                  "Binary models: the label is Person when the Person probability exceeds T in [0, 1] (default: argmax; a single output: 0.5)");
  AddVerbosityFlags(*cmd, args->verbosity);
  cmd->callback([args] {
    CheckThreshold(args->threshold);
    LoadedModel model = LoadModelOrThrow(args->model);
    model.threshold = args->threshold;
    const std::vector<std::string> paths = ExpandImagePaths(args->inputs);
    if (paths.empty()) throw CliError{"no images found"};
    nlohmann::json out = nlohmann::json::array();
    int failures = 0, persons = 0;
    bool binary = false;
    Progress progress(args->json || paths.size() > 1 ? args->verbosity.level() : Verbosity::kQuiet);
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < paths.size(); ++i) {
      const std::string& path = paths[i];
      auto p = Classify(model, path);
      if (!p.ok()) {
        progress.Clear();
        fmt::print(stderr, "personcls: error: {}\n", p.status().message());
        ++failures;
        continue;
      }
      if (args->threshold && !p->person_score)
        throw CliError{fmt::format("--threshold needs a binary model (2 outputs or one), this one has {} classes", p->scores.size())};
      binary = p->person_score.has_value();
      persons += binary && p->index == 1;
      if (args->json) {
        out.push_back(PredictionJson(*p, model));
      } else {
        progress.Clear();
        // The printed probability is that of the printed label.
        fmt::print("{}\t{}\t{:.4f}\n", p->file, p->label, p->label_score());
        std::fflush(stdout);
      }
      progress.Update([&] {
        return "classify: " + ProgressCount(i + 1, paths.size(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      });
    }
    progress.Clear();
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
