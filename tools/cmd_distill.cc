// personcls distill: trains a MobileNetV2-Rep student on the averaged soft outputs of
// teacher models run through the personcls runtime (src/distill/distiller.h), and writes
// RUN/{best,last}.safetensors and RUN/log.csv.
#include <fmt/core.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "data/image_fingerprint.h"
#include "distill/distiller.h"
#include "distill/image_pool.h"
#include "nn/dataset.h"
#include "nn/widen_deploy.h"
#include "personcls/arch.h"
#include "personcls/checkpoint.h"
#include "personcls/model.h"

namespace personcls::cli {

void RegisterDistill(CLI::App& app) {
  struct Args {
    std::vector<std::string> teachers, unlabeled, source_weights;
    std::string arch = "mbv2-rep-0.35", data, val, out, init;
    int threads = 0, max_per_dir = 0, unlabeled_size = 128;
    bool no_flip = false, resume = false, force = false;
    VerbosityFlags verbosity;
    DistillOptions o;
  };
  auto a = std::make_shared<Args>();
  DistillOptions& o = a->o;
  CLI::App* cmd = app.add_subcommand("distill", "Distill teacher models into a MobileNetV2-Rep student (function matching)");
  cmd->add_option("--teacher", a->teachers, "Teacher model (.tflite float32/int8 or checkpoint); repeat for an ensemble")->required();
  cmd->add_option("--arch", a->arch, "Student architecture (mbv2-rep-0.35 | mbv2-rep-0.5 | mbv2-rep-1.0)")->capture_default_str();
  cmd->add_option("--data", a->data, "Labelled images (DIR/labels.csv or DIR/<class>/*); optional with --labeled-per-batch 0");
  cmd->add_option("--unlabeled", a->unlabeled,
                  "Image pool: DIR/index.csv or an index .csv (file,source,person_label,...), else every image below DIR (source = "
                  "sub-directory); repeatable");
  cmd->add_option("--unlabeled-max-per-dir", a->max_per_dir, "Keep at most N images of each pool source (0: all)")->capture_default_str();
  cmd->add_option("--source-cap", o.source_cap,
                  "Sample pool sources with weight min(images, N): all images are used, none dominates (0: images uniformly)")
      ->capture_default_str();
  cmd->add_option("--source-weight", a->source_weights, "NAME=W multiplies a pool source's weight (with --source-cap; 0 leaves it out); repeatable");
  cmd->add_flag("--pool-labels", o.pool_labels, "Use the pool's person_label (where given) as hard labels, cropped like labelled images");
  cmd->add_option("--unlabeled-size", a->unlabeled_size, "Unlabeled images are stretched to this square size before cropping")->capture_default_str();
  cmd->add_option("--val", a->val, "Validation directory (top-1 per epoch, best.safetensors)");
  cmd->add_option("--out", a->out, "Run directory (checkpoints, log.csv); an existing run is refused without --resume or --force")->required();
  cmd->add_option("--epochs", o.epochs, "Epochs (one epoch = one pass over the labelled images)")->capture_default_str();
  cmd->add_option("--batch", o.batch, "Images per step")->capture_default_str();
  cmd->add_option("--labeled-per-batch", o.labeled_per_batch, "Labelled images per step when --unlabeled is given")->capture_default_str();
  cmd->add_option("--lr", o.lr, "AdamW peak learning rate")->capture_default_str();
  cmd->add_option("--wd", o.weight_decay, "AdamW decoupled weight decay")->capture_default_str();
  cmd->add_option("--warmup", o.warmup_fraction, "Share of all steps spent in linear warm-up (then cosine)")->capture_default_str();
  cmd->add_option("--temperature", o.temperature, "Softmax temperature of teachers and student")->capture_default_str();
  cmd->add_option("--hard-weight", o.hard_weight, "Weight h of hard-label cross-entropy on labelled views ((1-h) KL + h CE)")->capture_default_str();
  cmd->add_option("--labeled-area", o.labeled_area_min, "Smallest crop area (share) of labelled images")->capture_default_str();
  cmd->add_option("--unlabeled-area", o.unlabeled_area_min, "Smallest crop area (share) of unlabeled images")->capture_default_str();
  cmd->add_option("--jitter", o.jitter, "Colour jitter strength (brightness/contrast/saturation x U(1-s, 1+s))")->capture_default_str();
  cmd->add_flag("--no-flip", a->no_flip, "No horizontal flips");
  cmd->add_option("--mixup", o.mixup, "Probability that a batch is mixed by mixup")->capture_default_str();
  cmd->add_option("--cutmix", o.cutmix, "Probability that a batch is mixed by cutmix")->capture_default_str();
  cmd->add_option("--feature-weight", o.feature_weight,
                  "Weight of feature distillation: the student's pooled features, through a linear adapter, regress the teachers' "
                  "standardized classifier inputs (0: off)")
      ->capture_default_str();
  cmd->add_option("--init", a->init,
                  "Start the student from this deploy-form model of the same architecture or a narrower width, which is widened by "
                  "replicating channels (.tflite float32/int8, .onnx or checkpoint; e.g. SSCMA's CIFAR-10 MobileNetV2-0.35-Rep); its head "
                  "is used only when its classes match");
  cmd->add_option("--seed", o.seed, "Seed of init, sampling and augmentation")->capture_default_str();
  cmd->add_flag("--resume", a->resume, "Continue the run in --out from its last epoch (same options); bit-identical to an uninterrupted run");
  cmd->add_flag("--force", a->force, "Start over in --out even if it holds a run (its files are replaced)");
  cmd->add_option("--threads", a->threads, "OpenMP threads (0: default); results do not depend on it");
  AddVerbosityFlags(*cmd, a->verbosity);
  cmd->callback([a] {
    DistillOptions& o = a->o;
    if (a->resume && a->force) throw CliError{"give --resume or --force, not both"};
    if (!a->resume && !a->force) RefuseExistingRun(a->out);
    const Verbosity verbosity = a->verbosity.level();
    const bool notes = verbosity != Verbosity::kQuiet;
    if (a->threads < 0) throw CliError{"--threads must be >= 0"};
    if (a->threads > 0) omp_set_num_threads(a->threads);
    if (a->unlabeled_size < 8) throw CliError{"--unlabeled-size must be >= 8"};
    auto arch = ArchFromName(a->arch);
    if (!arch.ok()) throw CliError{arch.status().message()};
    const ArchConfig config = *arch;
    o.flip = !a->no_flip;
    o.out_dir = a->out;
    while (o.out_dir.size() > 1 && o.out_dir.back() == '/') o.out_dir.pop_back();
    o.version = PERSONCLS_VERSION;
    std::string teachers;
    for (const auto& t : a->teachers) teachers += (teachers.empty() ? "" : "+") + std::filesystem::path(t).filename().string();
    o.recipe = fmt::format("arch={} teachers={} epochs={} batch={} labeled_per_batch={} lr={} wd={} warmup={} T={} hard={} area={}/{} jitter={} flip={} "
                           "mixup={} cutmix={} unlabeled_dirs={} max_per_dir={} init={} seed={}",
                           config.name, teachers, o.epochs, o.batch, o.labeled_per_batch, o.lr, o.weight_decay, o.warmup_fraction, o.temperature,
                           o.hard_weight, o.labeled_area_min, o.unlabeled_area_min, o.jitter, o.flip ? 1 : 0, o.mixup, o.cutmix, a->unlabeled.size(),
                           a->max_per_dir, a->init.empty() ? "sscma" : std::filesystem::path(a->init).filename().string(), o.seed);
    // Only runs with a feature term say so, so that earlier recipes (and their resumes) stay as they were.
    if (o.feature_weight > 0) o.recipe += fmt::format(" feature={}", o.feature_weight);
    for (const std::string& sw : a->source_weights) {
      const size_t eq = sw.rfind('=');
      double w = -1;
      try {
        size_t used = 0;
        if (eq != std::string::npos) w = std::stod(sw.substr(eq + 1), &used);
        if (eq == std::string::npos || used != sw.size() - eq - 1) w = -1;
      } catch (const std::exception&) {
        w = -1;
      }
      if (!(w >= 0 && std::isfinite(w))) throw CliError{"--source-weight " + sw + ": expected NAME=W with a finite W >= 0"};
      o.source_weights[sw.substr(0, eq)] = w;
    }
    if (o.source_cap < 0) throw CliError{"--source-cap must be >= 0"};
    if (o.source_cap > 0) o.recipe += fmt::format(" source_cap={}", o.source_cap);
    for (const auto& [name, w] : o.source_weights) o.recipe += fmt::format(" w[{}]={}", name, w);
    if (o.pool_labels) o.recipe += " pool_labels=1";
    std::vector<std::unique_ptr<Teacher>> teacher_models;
    for (const auto& path : a->teachers) {
      auto t = Teacher::Load(path, omp_get_max_threads());
      if (!t.ok()) throw CliError{t.status().message()};
      teacher_models.push_back(std::move(t).value());
    }
    Expected<Dataset> labeled = Dataset{};
    if (!a->data.empty()) {
      labeled = LoadDataset(a->data, config.input_size, config.num_classes, false);
      if (!labeled.ok()) throw CliError{labeled.status().message()};
    } else if (a->unlabeled.empty() || o.labeled_per_batch != 0) {
      throw CliError{"--data is needed unless --unlabeled is given with --labeled-per-batch 0"};
    } else {
      labeled->size = config.input_size;
    }
    std::optional<Dataset> unlabeled, val;
    const auto load_start = std::chrono::steady_clock::now();
    for (const auto& dir : a->unlabeled) {
      auto u = LoadImagePool(dir, a->unlabeled_size, a->max_per_dir, o.seed, config.num_classes);
      if (!u.ok()) throw CliError{u.status().message()};
      if (!unlabeled)
        unlabeled = std::move(*u);
      else
        AppendPool(*unlabeled, std::move(*u), std::filesystem::path(dir).filename().string());
    }
    if (unlabeled) {
      for (const auto& [name, w] : o.source_weights)
        if (std::find(unlabeled->source_names.begin(), unlabeled->source_names.end(), name) == unlabeled->source_names.end())
          throw CliError{"--source-weight " + name + ": no such pool source"};
      size_t known = 0;
      for (int32_t l : unlabeled->labels) known += l >= 0;
      if (notes)
        fmt::print(stderr, "distill: pool of {} images from {} sources ({} with labels), decoded in {:.1f} s\n", unlabeled->count(),
                   unlabeled->source_names.size(), known,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count());
      if (verbosity == Verbosity::kVerbose && o.source_cap > 0)
        for (const SourceShare& s : SourceShares(*unlabeled, o.source_cap, o.source_weights))
          fmt::print(stderr, "distill: source {:<28} {:>6} images {:>6} labelled  weight {:>7.1f}  share {:5.1f} %\n", s.name, s.images,
                     s.labelled, s.weight, 100.0 * s.share);
    }
    // Every image the student is fit to (labelled and pool, the pool's at the input size as eval
    // would decode them), so that `eval` can tell when it scores images seen in training.
    {
      std::vector<uint64_t> hashes;
      for (size_t i = 0; i < labeled->count(); ++i) hashes.push_back(PixelHash(labeled->image(i), labeled->image_bytes()));
      if (unlabeled)
        for (size_t i = 0; i < unlabeled->count(); ++i) {
          Image img{unlabeled->size, unlabeled->size, 3, {unlabeled->image(i), unlabeled->image(i) + unlabeled->image_bytes()}};
          const Image at_input = ResizeBilinear(img, config.input_size, config.input_size);
          hashes.push_back(PixelHash(at_input.pixels.data(), at_input.pixels.size()));
        }
      o.metadata[kFingerprintMetadataKey] = ImageFingerprint::FromHashes(std::move(hashes), config.input_size, 3).ToText();
    }
    if (!a->val.empty()) {
      auto v = LoadDataset(a->val, config.input_size, config.num_classes, false);
      if (!v.ok()) throw CliError{v.status().message()};
      val = std::move(*v);
      auto scores = ScoreTeachers(teacher_models, *val);
      if (!scores.ok()) throw CliError{scores.status().message()};
      for (size_t i = 0; i < teacher_models.size(); ++i)
        fmt::print("teacher {}: val_top1 {:.2f} %\n", teacher_models[i]->path(), 100.0 * (*scores)[i]);
      fmt::print("teacher ensemble (mean probabilities): val_top1 {:.2f} %\n", 100.0 * scores->back());
    }
    std::unique_ptr<Distiller> distiller;
    try {
      distiller = std::make_unique<Distiller>(config, o, teacher_models, *labeled, unlabeled ? &*unlabeled : nullptr, val ? &*val : nullptr);
    } catch (const std::invalid_argument& e) {
      throw CliError{e.what()};
    }
    if (a->resume) {
      Status s = distiller->Resume();
      if (!s.ok()) throw CliError{s.message()};
      if (notes) fmt::print(stderr, "distill: resuming {} after epoch {}\n", o.out_dir, distiller->epoch());
    } else if (!a->init.empty()) {
      auto graph = IsCheckpointPath(a->init) ? LoadCheckpointGraph(a->init, std::nullopt) : LoadModelFile(a->init);  // its own width
      if (!graph.ok()) throw CliError{graph.status().message()};
      auto start = ReadDeployWeightsForWidth(config, **graph, a->init, o.seed);
      if (!start.ok()) throw CliError{start.status().message()};
      distiller->InitFrom(start->deploy);
      if (notes)
        fmt::print(stderr, "distill: student starts from {} (backbone{}{})\n", a->init, start->deploy.has_head ? " and head" : "",
                 start->source_arch == config.name ? "" : ", " + start->source_arch + " widened by replicating channels");
    }
    if (notes)
      fmt::print(stderr, "distill: {} labelled, {} unlabeled, {} teachers, {} {}x{}, batch {}, {} steps/epoch, {} threads\n", labeled->count(),
               unlabeled ? unlabeled->count() : 0, teacher_models.size(), config.name, config.input_size, config.input_size, o.batch,
               distiller->steps_per_epoch(), omp_get_max_threads());
    Progress progress(verbosity);
    const int start_epoch = distiller->epoch();
    const auto t_run = std::chrono::steady_clock::now();
    auto t_epoch = t_run;
    auto on_step = [&](const BatchProgress& p) {
      progress.Update([&] {
        const auto now = std::chrono::steady_clock::now();
        return TrainingProgressLine(p, o.epochs, start_epoch, std::chrono::duration<double>(now - t_epoch).count(),
                                    std::chrono::duration<double>(now - t_run).count());
      });
    };
    auto on_epoch = [&](const DistillEpochStats& s) {
      progress.Clear();
      t_epoch = std::chrono::steady_clock::now();
      std::string val_text = s.val_top1 >= 0 ? fmt::format("  val_top1 {:.2f} %", 100.0 * s.val_top1) : "";
      std::string feature_text = o.feature_weight > 0 ? fmt::format("  feat {:.4f}", s.feature_loss) : "";
      fmt::print("epoch {:>3}/{}  it {:>6}  lr {:.3g}  loss {:.4f}  kl {:.4f}{}  agree {:.2f} %{}  {:.1f} s  {:.1f} img/s\n", s.epoch, o.epochs,
                 s.iterations, s.lr, s.loss, s.kl, feature_text, 100.0 * s.teacher_agreement, val_text, s.seconds,
                 s.seconds > 0 ? distiller->steps_per_epoch() * o.batch / s.seconds : 0.0);
      std::fflush(stdout);
    };
    Status s = distiller->Run(on_epoch, 0, on_step);
    if (!s.ok()) throw CliError{s.message()};
    if (val) fmt::print("best val_top1 {:.2f} % at epoch {}\n", 100.0 * distiller->best_val_top1(), distiller->best_epoch());
    fmt::print("wrote {}/last.safetensors{}\n", o.out_dir, val ? " and best.safetensors" : "");
  });
}

}  // namespace personcls::cli
