// personcls export: a model (checkpoint, .pth or .tflite) as a deployable artifact; the
// formats are the table in model_export.cc.
#include <fmt/core.h>

#include "commands.h"
#include "model_export.h"

namespace personcls::cli {

void RegisterExport(CLI::App& app) {
  struct Args {
    ExportJob job;
    std::string format;
  };
  auto args = std::make_shared<Args>();
  std::vector<std::string> names;
  std::string help = "Output format:";
  for (const ExportFormat& f : ExportFormats()) {
    names.push_back(f.name);
    help += "\n  " + f.name + ": " + f.help;
  }
  CLI::App* cmd = app.add_subcommand("export", "Write a model as TFLite (float32 or int8), float32 ONNX or C source, with labels/normalization/producer metadata");
  AddModelOptions(*cmd, args->job.model, true, /*model_required=*/false);  // default: the embedded model, e.g. for firmware
  cmd->add_option("--format,-f", args->format, help)->required()->check(CLI::IsMember(names));
  cmd->add_option("--out,-o", args->job.out, "Output file (c: NAME.c or the stem NAME gives NAME.h + NAME.c; NAME.cc/.cpp keep that extension); written atomically")->required();
  cmd->add_option("--calib", args->job.calib, "Calibration images (directory, searched recursively) for int8 formats");
  AddCalibrationOptions(*cmd, args->job);
  cmd->add_option("--symbol", args->job.symbol, "c: C identifier prefix of the array and constants (default: the file name)");
  cmd->callback([args] {
    const ExportFormat* format = nullptr;
    for (const ExportFormat& f : ExportFormats())
      if (f.name == args->format) format = &f;
    if (format->needs_calib && args->job.calib.empty()) throw CliError{"--format " + format->name + " needs --calib DIR"};
    PrepareExportJob(args->job);
    for (const std::string& file : format->write(args->job))
      if (args->job.verbosity.level() != Verbosity::kQuiet) fmt::print("wrote {}\n", file);
  });
}

}  // namespace personcls::cli
