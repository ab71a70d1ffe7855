// personcls quantize: post-training int8 quantization of a float model (checkpoint, .pth or
// float32 .tflite) into an int8 .tflite; the same as `export --format tflite-int8`.
#include <fmt/core.h>

#include "commands.h"
#include "model_export.h"

namespace personcls::cli {

void RegisterQuantize(CLI::App& app) {
  auto job = std::make_shared<ExportJob>();
  CLI::App* cmd = app.add_subcommand("quantize", "Post-training int8 quantization (TFLite converter's scheme) of a float model");
  AddModelOptions(*cmd, job->model, true);
  cmd->add_option("--calib", job->calib, "Calibration images (directory, searched recursively)")->required();
  AddCalibrationOptions(*cmd, *job);
  cmd->add_option("--out,-o", job->out, "The int8 .tflite to write (atomically)")->required();
  cmd->callback([job] {
    PrepareExportJob(*job);
    const std::vector<uint8_t> bytes = TfliteBytesForExport(QuantizeForExport(*job), *job);
    Status st = WriteModelFile(job->out, bytes);
    if (!st.ok()) throw CliError{st.message()};
    if (job->verbosity.level() != Verbosity::kQuiet)
      fmt::print("wrote {} ({} bytes; int8, {} calibration, up to {} images from {}, seed {})\n", job->out, bytes.size(), job->method, job->images,
                 job->calib, job->seed);
  });
}

}  // namespace personcls::cli
