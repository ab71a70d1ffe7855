#include "commands.h"

namespace personcls::cli {

void AddModelOptions(CLI::App& cmd, ModelOptions& o, bool with_labels, bool model_required) {
  auto* model = cmd.add_option("--model,-m", o.model, "Model file: .tflite (float32 or int8), float32 .onnx, a personcls .safetensors checkpoint or a PyTorch .pth");
  if (model_required)
    model->required();
  else
    model->description(model->get_description() + " (default: the embedded default model)");
  cmd.add_option("--threads,-t", o.threads, "Threads per inference")->capture_default_str();
  cmd.add_option("--kernels", o.kernels, "fast (AVX2 where available) or ref (reference kernels)")->capture_default_str();
  cmd.add_option("--input-mean", o.input_mean, "Override input normalization: x = (pixel - mean) * scale");
  cmd.add_option("--input-scale", o.input_scale, "Override input normalization scale (default: int8 q = pixel-128, float x = pixel/255)");
  if (cmd.get_name() != "info")  // info's --arch describes an architecture instead
    cmd.add_option("--arch", o.arch, "Checkpoints: architecture (default: inferred from tensor shapes)");
  if (with_labels) cmd.add_option("--labels", o.labels, "Comma-separated class names (default: model metadata, or \"Not a person,Person\" for 2 classes)");
}

void AddVerbosityFlags(CLI::App& cmd, VerbosityFlags& flags) {
  auto* quiet = cmd.add_flag("--quiet,-q", flags.quiet, "No progress and no notes on stderr (results and errors only)");
  cmd.add_flag("--verbose,-v", flags.verbose, "Progress as one line per step, also when stderr is not a terminal")->excludes(quiet);
}

}  // namespace personcls::cli
