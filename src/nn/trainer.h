// The training loop of personcls train: SSCMA's recipe for MobileNetV2-Rep on the fp32 ops.
//
// Per epoch: batches of `batch` images from the Loader (data/loader.h: a shuffle, or a
// class-balanced draw, and per-sample augmentation all fixed by (seed, epoch, position),
// independent of the thread count; a final batch of one image is dropped: train-mode BN
// needs more than one value), optionally mixed (mixup / cutmix), x = pixel / 255 NHWC,
// train-mode forward, mean cross-entropy (with mixing: lambda CE(own label) + (1 - lambda)
// CE(partner's label)), backward, SGD step with lr = schedule.lr_at(iteration, epoch). Then
// top-1 on the validation set in eval mode.
//
// Run directory (out_dir):
//   last.safetensors, best.safetensors  SSCMA state_dict names, PyTorch layouts, F32
//                                       (num_batches_tracked I64); metadata arch, epoch,
//                                       val_top1, personcls_version
//   last_state.safetensors              momentum buffers (internal layouts), metadata
//                                       step_count, epoch, iteration, rng, best_*
//   log.csv                             epoch,iterations,lr,train_loss,train_acc,val_top1,seconds
// Resume() continues from last.*; an interrupted and resumed run gives bit-identical
// weights to an uninterrupted one with the same options (the schedule must not change:
// with cosine decay T = epochs, so resume with the same --epochs).
// Parameters start from a seeded PyTorch-default-like init: conv / linear weights and
// biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), BN weight 1, bias 0.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "formats/safetensors/safetensors.h"
#include "nn/mbv2_rep_model.h"
#include "nn/optimizer.h"
#include "personcls/arch.h"
#include "personcls/status.h"

namespace personcls {

// Pieces the trainer shares with the distiller (src/distill).
//
// SSCMA's init: convs kaiming-normal (fan_out, ReLU gain), zero bias; BN weight 1, bias 0;
// Linear normal(0, 0.01), bias 0. Normals by Box-Muller from `rng`.
void InitSscmaParameters(Mbv2RepModel& model, std::mt19937_64& rng);
// Writes every parameter and buffer under SSCMA's state_dict names (PyTorch layouts, F32;
// num_batches_tracked I64), atomically. Metadata arch, input_size, num_classes and gray are
// added to `metadata`.
Status SaveModelCheckpoint(const std::string& path, const Mbv2RepModel& model, std::map<std::string, std::string> metadata);
// log.csv, crash-safe: StartLog writes `header`, or, when resuming at `epoch` > 0, keeps
// the log's own header and its rows of epochs <= `epoch`; AppendLogRow adds one line. Both
// rewrite the whole file atomically, so a killed process never leaves a torn line.
Status StartLog(const std::string& path, const std::string& header, int epoch);
Status AppendLogRow(const std::string& path, const std::string& row);
// Top-1 of `model` in eval mode on `data` (x = pixel / 255), `batch` images at a time.
double EvaluateTop1(Mbv2RepModel& model, const Dataset& data, int batch);
// Shortest decimal text that reads back as the same double.
std::string ExactDecimal(double v);

// The state file of a run (OUT/last_state.safetensors) is the one commit point of an epoch:
// it holds the optimizer state and, under "model." + SSCMA's names, the weights, so that a
// process killed between writing last.safetensors and the state file resumes from one
// consistent epoch. AddResumeWeights adds the weights to a state file being built.
void AddResumeWeights(const Mbv2RepModel& model, safetensors::File& state);

// A run to resume: OUT/last_state.safetensors read and its weights loaded into `model`
// (from a state file without weights, an older run's: OUT/last.safetensors, which must be
// of the same epoch). Errors name the file.
struct ResumeFiles {
  std::string state_path;
  safetensors::File state;
  int epoch = 0;
};
Expected<ResumeFiles> OpenRunToResume(const std::string& out_dir, Mbv2RepModel& model);
// metadata[key], or an error naming `path` (the file it came from) and the key.
Expected<std::string> MetadataValue(const std::map<std::string, std::string>& metadata, const std::string& key, const std::string& path);

struct TrainOptions {
  int epochs = 300;
  int batch = 128;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  int64_t warmup_iters = 30;
  double warmup_start_factor = 0.001;
  std::vector<int> milestones{100, 200, 250};
  double gamma = 0.1;
  bool cosine = false;  // cosine decay over `epochs` instead of milestones
  uint64_t seed = 0;
  AugmentConfig augment;        // default none; ParseAugment("flip") is the old --augment flip
  bool balanced = false;        // class-balanced sampling
  BatchMix mix = BatchMix::kNone;
  double mix_alpha = 1.0;
  int loader_threads = 1;       // augmentation workers beside the OpenMP compute threads
  std::string out_dir;  // empty: no files written
  std::string version = "unknown";
  std::map<std::string, std::string> metadata;  // added to every model checkpoint (e.g. training_fingerprint)
};

struct EpochStats {
  int epoch = 0;  // 1-based: number of epochs completed
  int64_t iterations = 0;  // total so far
  double lr = 0;  // lr of the epoch's last iteration
  double train_loss = 0, train_acc = 0, val_top1 = 0, seconds = 0;
};

struct BatchProgress {
  int epoch = 0;  // 0-based epoch in progress
  int batch = 0, batches = 0;
  int64_t iteration = 0;
  double loss = 0, lr = 0;
  int images = 0;  // images in this batch
};

class Trainer {
 public:
  // Throws std::invalid_argument on bad options or a dataset not matching the config.
  Trainer(const ArchConfig& config, TrainOptions options, const Dataset& train, const Dataset& val);

  // Loads out_dir/last.safetensors and last_state.safetensors.
  Status Resume();

  // Trains until `options.epochs` epochs are complete (or stop_after more, when > 0).
  Status Run(const std::function<void(const BatchProgress&)>& on_batch = {},
             const std::function<void(const EpochStats&)>& on_epoch = {}, int stop_after = 0);

  double Evaluate(const Dataset& data);  // top-1 in eval mode

  Mbv2RepModel& model() { return model_; }
  int epochs_done() const { return epoch_; }
  double best_val_top1() const { return best_val_; }
  int best_epoch() const { return best_epoch_; }

 private:
  Status SaveWeights(const std::string& path, double val_top1) const;
  Status SaveState() const;
  void Init();

  ArchConfig config_;
  TrainOptions options_;
  const Dataset& train_;
  const Dataset& val_;
  Mbv2RepModel model_;
  SgdOptimizer sgd_;
  LrSchedule schedule_;
  std::mt19937_64 rng_;
  int epoch_ = 0;
  int64_t iteration_ = 0;
  double best_val_ = -1.0;
  int best_epoch_ = 0;
};

}  // namespace personcls
