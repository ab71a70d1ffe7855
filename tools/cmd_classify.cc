// personcls classify: one line (or JSON object) per image.
#include <fmt/core.h>

#include "commands.h"

namespace personcls::cli {

void RegisterClassify(CLI::App& app) {
  struct Args {
    ModelOptions model;
    std::vector<std::string> inputs;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("classify", "Classify images (JPEG, PNG, BMP, PPM/PGM, raw 96x96x3 .bin) or directories of them");
  AddModelOptions(*cmd, args->model, true);
  cmd->add_option("inputs", args->inputs, "Image files or directories")->required();
  cmd->add_flag("--json", args->json, "Print a JSON array of {file, label, index, scores, raw}");
  cmd->callback([args] {
    LoadedModel model = LoadModelOrThrow(args->model);
    const std::vector<std::string> paths = ExpandImagePaths(args->inputs);
    if (paths.empty()) throw CliError{"no images found"};
    nlohmann::json out = nlohmann::json::array();
    int failures = 0;
    for (const std::string& path : paths) {
      auto p = Classify(model, path);
      if (!p.ok()) {
        fmt::print(stderr, "personcls: error: {}\n", p.status().message());
        ++failures;
        continue;
      }
      if (args->json)
        out.push_back(PredictionJson(*p));
      else
        fmt::print("{}\t{}\t{:.4f}\n", p->file, p->label, p->scores[p->index]);
    }
    if (args->json) fmt::print("{}\n", out.dump(2));
    if (failures) throw CliError{fmt::format("{} of {} images could not be classified", failures, paths.size())};
  });
}

}  // namespace personcls::cli
