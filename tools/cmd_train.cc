// personcls train: trains MobileNetV2-Rep (SSCMA's recipe) on a labelled directory and
// writes RUN/{best,last}.safetensors, RUN/last_state.safetensors and RUN/log.csv.
#include <fmt/core.h>
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "commands.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/image_fingerprint.h"
#include "nn/trainer.h"
#include "personcls/arch.h"

namespace personcls::cli {
namespace {

std::vector<int> ParseMilestones(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    try {
      size_t used = 0;
      out.push_back(std::stoi(item, &used));
      if (used != item.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw CliError{"--milestones: '" + item + "' is not an integer"};
    }
  }
  return out;
}

}  // namespace

void RegisterTrain(CLI::App& app) {
  struct Args {
    std::string arch = "mbv2-rep-0.35", data, val, out, resume, augment = "none", milestones = "100,200,250";
    std::string mix = "none";
    int epochs = 300, batch = 128, threads = 0, input = 96, classes = 2, warmup = 30, loader_threads = 1;
    double lr = 0.01, mix_alpha = 1.0;
    uint64_t seed = 0;
    bool cosine = false, gray = false, balanced = false, force = false;
    VerbosityFlags verbosity;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("train", "Train MobileNetV2-Rep on a labelled directory (labels.csv or class folders)");
  cmd->add_option("--arch", a->arch, "Architecture (mbv2-rep-0.35 | mbv2-rep-0.5 | mbv2-rep-1.0)")->capture_default_str();
  cmd->add_option("--data", a->data, "Training images: DIR (DIR/labels.csv: file,label, or DIR/<class>/*) or an image cache DIR/SPLIT")->required();
  cmd->add_option("--val", a->val, "Validation images (same forms)")->required();
  cmd->add_option("--out", a->out, "Run directory (checkpoints, log.csv); an existing run is refused without --resume or --force");
  cmd->add_option("--resume", a->resume, "Continue the run in --out (or in the directory given here) from last.*")->expected(0, 1);
  cmd->add_flag("--force", a->force, "Start over in --out even if it holds a run (its files are replaced)");
  cmd->add_option("--epochs", a->epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch", a->batch, "Batch size")->capture_default_str();
  cmd->add_option("--lr", a->lr, "Base learning rate (SGD, momentum 0.9, weight decay 1e-4)")->capture_default_str();
  cmd->add_option("--warmup", a->warmup, "Linear warm-up iterations (start factor 0.001)")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of init, shuffle and augmentation")->capture_default_str();
  cmd->add_option("--threads", a->threads, "OpenMP threads (0: default); results do not depend on it");
  cmd->add_option("--augment", a->augment,
                  "none | flip | sscma | comma-separated ops, '-op' removes one (jitter, translate, rgbshift, median, gray, clahe, hflip, "
                  "vflip, tonecurve, resized-crop, rotate; e.g. sscma,-clahe)")
      ->capture_default_str();
  cmd->add_flag("--balanced", a->balanced, "Class-balanced sampling (each image's class drawn uniformly)");
  cmd->add_option("--mix", a->mix, "Batch mixing: none | mixup | cutmix")->capture_default_str();
  cmd->add_option("--mix-alpha", a->mix_alpha, "Beta(alpha, alpha) of the mixing weight")->capture_default_str();
  cmd->add_option("--loader-threads", a->loader_threads, "Threads building augmented batches ahead of the trainer (0: in the loop)")
      ->capture_default_str();
  cmd->add_option("--input", a->input, "Input size (square)")->capture_default_str();
  cmd->add_option("--classes", a->classes, "Number of classes")->capture_default_str();
  cmd->add_flag("--gray", a->gray, "One input channel");
  cmd->add_option("--milestones", a->milestones, "Epochs at which lr is multiplied by 0.1")->capture_default_str();
  cmd->add_flag("--cosine", a->cosine, "Cosine decay over --epochs instead of milestones");
  AddVerbosityFlags(*cmd, a->verbosity);
  cmd->callback([a, cmd] {
    const bool resume = cmd->count("--resume") > 0;
    // `--resume` without a value: CLI11 gives a value-optional option the text "true".
    if (resume && (a->resume.empty() || (a->resume == "true" && !a->out.empty()))) a->resume = a->out;
    if (a->out.empty() && a->resume.empty()) throw CliError{"--out RUN/ (or --resume RUN/) is required"};
    if (!a->out.empty() && !a->resume.empty() && a->out != a->resume) throw CliError{"--out and --resume name different directories"};
    if (resume && a->force) throw CliError{"give --resume or --force, not both"};
    auto augment = ParseAugment(a->augment);
    if (!augment.ok()) throw CliError{augment.status().message()};
    if (a->mix != "none" && a->mix != "mixup" && a->mix != "cutmix") throw CliError{"--mix must be none, mixup or cutmix, not '" + a->mix + "'"};
    if (!(a->mix_alpha > 0)) throw CliError{"--mix-alpha must be > 0"};
    if (a->loader_threads < 0 || a->loader_threads > 64) throw CliError{"--loader-threads must be in 0..64"};
    if (a->threads < 0) throw CliError{"--threads must be >= 0"};
    if (a->threads > 0) omp_set_num_threads(a->threads);
    if (!resume && !a->force) RefuseExistingRun(a->out);
    auto arch = ArchFromName(a->arch);
    if (!arch.ok()) throw CliError{arch.status().message()};
    ArchConfig config = *arch;
    config.input_size = a->input;
    config.num_classes = a->classes;
    config.gray = a->gray;
    TrainOptions o;
    o.epochs = a->epochs;
    o.batch = a->batch;
    o.lr = a->lr;
    o.warmup_iters = a->warmup;
    o.milestones = ParseMilestones(a->milestones);
    o.cosine = a->cosine;
    o.seed = a->seed;
    o.augment = *augment;
    o.balanced = a->balanced;
    o.mix = a->mix == "mixup" ? BatchMix::kMixup : a->mix == "cutmix" ? BatchMix::kCutmix : BatchMix::kNone;
    o.mix_alpha = a->mix_alpha;
    o.loader_threads = a->loader_threads;
    o.out_dir = a->resume.empty() ? a->out : a->resume;
    while (o.out_dir.size() > 1 && o.out_dir.back() == '/') o.out_dir.pop_back();
    o.version = PERSONCLS_VERSION;
    auto train = LoadDataset(a->data, config.input_size, config.num_classes, config.gray);
    if (!train.ok()) throw CliError{train.status().message()};
    o.metadata[kFingerprintMetadataKey] = ImageFingerprint::Build(train->pixels.data(), train->count(), train->size, train->channels).ToText();
    auto val = LoadDataset(a->val, config.input_size, config.num_classes, config.gray);
    if (!val.ok()) throw CliError{val.status().message()};
    std::unique_ptr<Trainer> trainer;
    try {
      trainer = std::make_unique<Trainer>(config, o, *train, *val);
    } catch (const std::invalid_argument& e) {
      throw CliError{e.what()};
    }
    const Verbosity verbosity = a->verbosity.level();
    const bool notes = verbosity != Verbosity::kQuiet;
    if (!a->resume.empty()) {
      Status s = trainer->Resume();
      if (!s.ok()) throw CliError{s.message()};
      if (notes) fmt::print(stderr, "resuming {} after epoch {}\n", o.out_dir, trainer->epochs_done());
    }
    if (notes) fmt::print(stderr, "train: {} images, val: {} images, {} {}x{}, batch {}, {} threads, augment {}{}{}\n", train->count(), val->count(),
               config.name, config.input_size, config.input_size, o.batch, omp_get_max_threads(), o.augment.ToString(),
               o.balanced ? ", balanced" : "", a->mix != "none" ? ", " + a->mix : std::string());
    Progress progress(verbosity);
    auto t_epoch = std::chrono::steady_clock::now();
    const int start_epoch = trainer->epochs_done();
    auto t_run = std::chrono::steady_clock::now();
    int64_t images = 0;
    auto on_batch = [&](const BatchProgress& p) {
      images += p.images;
      progress.Update([&] {
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count();
        return TrainingProgressLine(p, o.epochs, start_epoch, el, std::chrono::duration<double>(std::chrono::steady_clock::now() - t_run).count());
      });
    };
    auto on_epoch = [&](const EpochStats& s) {
      progress.Clear();
      fmt::print("epoch {:>3}/{}  it {:>6}  lr {:.3g}  loss {:.4f}  train_acc {:.2f} %  val_top1 {:.2f} %  {:.1f} s  {:.1f} img/s\n", s.epoch,
                 o.epochs, s.iterations, s.lr, s.train_loss, 100.0 * s.train_acc, 100.0 * s.val_top1, s.seconds,
                 s.seconds > 0 ? static_cast<double>(images) / s.seconds : 0.0);
      std::fflush(stdout);
      images = 0;
      t_epoch = std::chrono::steady_clock::now();
    };
    Status s = trainer->Run(on_batch, on_epoch);
    if (!s.ok()) throw CliError{s.message()};
    fmt::print("best val_top1 {:.2f} % at epoch {} ({}/best.safetensors)\n", 100.0 * trainer->best_val_top1(), trainer->best_epoch(), o.out_dir);
  });
}

}  // namespace personcls::cli
