// personcls explain: Grad-CAM heatmap of one image, overlaid on it and written as PNG.
// Int8 models are explained through their float twin (explain/float_twin.h).
#include <fmt/core.h>

#include "commands.h"
#include "explain/float_twin.h"
#include "explain/gradcam.h"
#include "explain/heatmap.h"
#include "personcls/image.h"

namespace personcls::cli {

void RegisterExplain(CLI::App& app) {
  struct Args {
    ModelOptions model;
    std::string image, out, score = "logit";
    std::optional<int> cls;
    float alpha = 0.45f;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("explain", "Grad-CAM heatmap of the last conv feature map, overlaid on the image (PNG)");
  AddModelOptions(*cmd, args->model, true, false);
  cmd->add_option("image", args->image, "Image to explain")->required();
  cmd->add_option("--out,-o", args->out, "Output PNG (the input image's size)")->required();
  cmd->add_option("--class", args->cls, "Class index to explain (default: the predicted class)");
  cmd->add_option("--score", args->score, "logit (before SOFTMAX/LOGISTIC, standard Grad-CAM) or prob")->capture_default_str();
  cmd->add_option("--alpha", args->alpha, "Heatmap opacity in [0, 1]")->capture_default_str();
  cmd->callback([args] {
    if (args->score != "logit" && args->score != "prob") throw CliError{"--score must be 'logit' or 'prob'"};
    if (!(args->alpha >= 0.0f && args->alpha <= 1.0f)) throw CliError{"--alpha must be in [0, 1]"};
    LoadedModel model = LoadModelOrThrow(args->model);
    auto twin = explain::MakeFloatTwin(model.graph);
    if (!twin.ok()) throw CliError{args->model.model + ": " + twin.status().message()};
    InterpreterOptions io;
    io.num_threads = args->model.threads;
    io.kernels = args->model.kernels == "ref" ? KernelSet::kReference : KernelSet::kFast;
    auto cam = explain::GradCam::Create(twin->graph, io);
    if (!cam.ok()) throw CliError{args->model.model + ": " + cam.status().message()};
    const int classes = (*cam)->head().num_classes();
    if (args->cls && (*args->cls < 0 || *args->cls >= classes))
      throw CliError{fmt::format("--class {} out of range: the model has {} classes", *args->cls, classes)};
    auto image = LoadImage(args->image);
    if (!image.ok()) throw CliError{image.status().message()};
    // Flags and metadata win; otherwise the twin reproduces the int8 input's mapping.
    const auto normalization = model.normalization ? model.normalization : twin->input_normalization;
    Status s = FillInputTensor(*image, (*cam)->input_desc(), (*cam)->input_data(), normalization);
    if (!s.ok()) throw CliError{s.WithContext(args->image).message()};
    const explain::GradCamResult r =
        (*cam)->Explain(args->cls.value_or(-1), args->score == "prob" ? explain::CamScore::kProbability : explain::CamScore::kLogit);
    s = WritePng(args->out, explain::OverlayHeatmap(*image, r.cam, r.height, r.width, args->alpha));
    if (!s.ok()) throw CliError{s.message()};
    const OpDesc& op = twin->graph->ops[(*cam)->head().plan().feature_op];
    fmt::print("{}\t{}\t{} {:.4f}\tfeature map {}x{}x{} (op {} {}{})\t{}\n", args->image, model.labels[r.cls], args->score, r.scores[r.cls],
               r.height, r.width, r.channels, (*cam)->head().plan().feature_op, OpTypeName(op.type),
               twin->graph == model.graph ? "" : ", float twin", args->out);
  });
}

}  // namespace personcls::cli
