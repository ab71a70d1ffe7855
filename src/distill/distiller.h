// Knowledge distillation of MobileNetV2-Rep from teacher models ("function matching",
// Beyer et al. 2022): every step, the teachers and the student see the SAME augmented
// views, and the student learns the teachers' averaged soft outputs on them. Teachers run
// through the personcls runtime on each batch (a view is never seen twice, so nothing is
// cached). docs/default-model.md has the recipe and what it measured.
//
// A step, with B = batch and L = labeled_per_batch (B when there is no unlabeled set):
//   1. views: the next L labelled images of the epoch's shuffled order, then B - L images
//      of the pool (the unlabeled set; distill/image_pool.h), drawn as source_cap says below
//      (shuffled cycles, reshuffled at each wrap). Each view is RandomResizedCrop (area in
//      [labeled_area_min, 1] for images with a label, else [unlabeled_area_min, 1]; aspect
//      3/4..4/3) to the input size, horizontal flip p 0.5, colour jitter (brightness,
//      contrast, saturation each x U(1 - jitter, 1 + jitter)); src/data/augment.h. Views
//      with a hard label (labelled images; pool images with a label when pool_labels) are
//      moved to the front of the batch.
//   2. with probability `mixup` (else `cutmix`) the whole batch is mixed with its roll by
//      one (lambda ~ Beta(1, 1)); mixed views lose their hard labels.
//   3. targets q [B, K] = mean over teachers of softmax(log p_teacher / T) (distill/teacher.h).
//   4. loss = T^2/B sum_n w_n KL(q_n || softmax(z_n / T))   (ops/soft_cross_entropy.h)
//            + h/B sum_{labelled, unmixed n} CE(z_n, label_n)   (ops/softmax_cross_entropy.h)
//            + beta/(B D) sum_n |A f_n + a - (t_n - mu) / sigma|^2        (feature term)
//      w_n = 1 - h for labelled unmixed views, 1 otherwise (h = hard_weight).
//      Feature term (beta = feature_weight > 0 only): f_n [C] are the student's pooled
//      features (Mbv2RepModel::features), t_n [D] the teachers' classifier inputs side by
//      side (distill/teacher.h), mu and sigma their per-dimension mean and standard
//      deviation over fixed images (the first 256 labelled and 256 unlabeled, whole, no
//      augmentation) measured once before the first step; A [D, C], a [D] is a linear
//      adapter trained with the student and dropped afterwards. A binary teacher output
//      carries about one number per view; its features carry D, which is the point.
//   5. AdamW (decoupled weight decay), lr = LrSchedule: linear warm-up over the first
//      warmup_fraction of all steps from 0.01 x lr, then cosine per epoch to 0.
// An epoch is floor(labelled images / L) steps. Student inputs are x = pixel / 255 NHWC;
// init is SSCMA's (nn/trainer.h). Results depend only on the options and the seed (not on
// the thread count).
//
// Run directory (out_dir, optional):
//   last.safetensors, best.safetensors  as the trainer writes them (SSCMA names), metadata
//                                       epoch, val_top1, distill (the recipe), teachers
//                                       (best: highest val_top1; only with a validation set)
//   last_state.safetensors              what a resumed run needs besides the weights: AdamW's
//                                       m and v ("exp_avg.NAME", "exp_avg_sq.NAME"), the
//                                       unlabeled order, and metadata epoch, iteration,
//                                       step_count, rng, unlabeled_pos, best_*, distill
//                                       and, with a feature term, the adapter
//                                       ("feature_adapter.weight" [D, C], ".bias" [D])
//   log.csv                             epoch,iterations,lr,loss,kl,teacher_agreement,val_top1,seconds,feature_loss
//                                       (resuming a log without the last column adds it, 0)
// Resume() continues from last.* with the same options: an interrupted and resumed run
// writes the same weights, bit for bit, as an uninterrupted one. The recipe text must be
// the same (the learning-rate schedule depends on every epoch count).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "distill/image_pool.h"
#include "distill/teacher.h"
#include "nn/dataset.h"
#include "nn/mbv2_rep_model.h"
#include "nn/trainer.h"
#include "nn/optimizer.h"
#include "nn/rep_unfuse.h"
#include "personcls/arch.h"
#include "personcls/status.h"

namespace personcls {

struct DistillOptions {
  int epochs = 50;
  int batch = 64;
  int labeled_per_batch = 24;  // used only with an unlabeled set
  double lr = 5e-3;
  double weight_decay = 0.05;
  double warmup_fraction = 0.05;
  float temperature = 1.0f;
  double hard_weight = 0.0;
  double labeled_area_min = 0.6, unlabeled_area_min = 0.35;
  bool flip = true;
  double jitter = 0.3;
  double mixup = 0.0, cutmix = 0.0;  // probabilities per batch; mixup + cutmix <= 1
  double feature_weight = 0.0;       // beta of the feature term; 0: logits only
  // Pool sampling. 0: every pool image equally likely (one shuffled cycle over the pool).
  // N > 0: a source (Dataset::sources) is drawn with weight min(images in it, N) x
  // source_weights[name] (default 1; 0 leaves it out), then the next image of its own
  // shuffled cycle: a large source is seen in full over time but cannot dominate a batch.
  int source_cap = 0;
  std::map<std::string, double> source_weights;
  // Use the pool's own labels (Dataset::labels >= 0) as hard labels, as for labelled images:
  // crop area in [labeled_area_min, 1], weight hard_weight.
  bool pool_labels = false;
  uint64_t seed = 0;
  std::string out_dir;  // empty: no files
  std::string version = "unknown";
  std::string recipe;   // free text stored in checkpoint metadata "distill"
  std::map<std::string, std::string> metadata;  // added to every model checkpoint (e.g. training_fingerprint)
};

struct DistillEpochStats {
  int epoch = 0;  // 1-based
  int64_t iterations = 0;
  double lr = 0, loss = 0, kl = 0;
  double feature_loss = 0;       // mean squared error of the adapter (before beta); 0 when unused
  double teacher_agreement = 0;  // share of training views where argmax student == argmax target
  double val_top1 = -1;          // -1 without a validation set
  double seconds = 0;
};

class Distiller {
 public:
  // `teachers`, `labeled`, `unlabeled` and `val` are borrowed and must outlive the
  // Distiller; unlabeled and val may be nullptr. Throws std::invalid_argument on bad
  // options or data that do not fit the model or the teachers.
  Distiller(const ArchConfig& config, DistillOptions options, const std::vector<std::unique_ptr<Teacher>>& teachers, const Dataset& labeled,
            const Dataset* unlabeled, const Dataset* val);

  // Replaces the seeded SSCMA init by a pretrained deploy network (nn/rep_unfuse.h),
  // calibrated on the first min(batch, count) labelled images in their stored order. Call
  // before Run. The seeded init still draws the 1x1 branch weights, so runs stay
  // reproducible.
  void InitFrom(const PretrainedDeploy& pretrained);

  // Loads out_dir/last.safetensors and last_state.safetensors (instead of any init).
  // Errors name the file: missing, another architecture or recipe, inconsistent epochs.
  Status Resume();

  // Runs until `epochs` epochs are complete, or `stop_after` more when > 0 (an interrupted
  // run, for tests).
  // on_step, when given, is called after every step (epoch 0-based, batch 1-based).
  Status Run(const std::function<void(const DistillEpochStats&)>& on_epoch = {}, int stop_after = 0,
             const std::function<void(const BatchProgress&)>& on_step = {});
  int epoch() const { return epoch_; }

  Mbv2RepModel& model() { return model_; }
  int steps_per_epoch() const { return steps_per_epoch_; }
  double best_val_top1() const { return best_val_; }
  int best_epoch() const { return best_epoch_; }

 private:
  // Fills views [B, S, S, 3] uint8 and labels [B] (-1: no hard label) for one step.
  void MakeBatch(const std::vector<size_t>& labeled_order, int step, std::vector<uint8_t>& views, std::vector<int32_t>& labels);
  // mu and 1 / sigma of the teachers' features (see the feature term above).
  Status MeasureFeatureStatistics();
  // The feature term of one step: returns its MSE and writes dfeatures [B, C] (scaled by
  // beta) and the adapter's gradients.
  double FeatureStep(const std::vector<float>& teacher_features, Tensor& dfeatures);
  std::vector<Mbv2RepModel::ParamRef> TrainedParameters();
  Status Save(const std::string& path, double val_top1) const;
  Status SaveState() const;

  ArchConfig config_;
  DistillOptions options_;
  const std::vector<std::unique_ptr<Teacher>>& teachers_;
  const Dataset& labeled_;
  const Dataset* unlabeled_;
  const Dataset* val_;
  Mbv2RepModel model_;
  AdamWOptimizer adamw_;
  std::unique_ptr<LrSchedule> schedule_;
  std::mt19937_64 rng_;
  int labeled_per_batch_ = 0, steps_per_epoch_ = 0;
  PoolSampler pool_sampler_;  // empty without a pool
  // Feature term (empty without): adapter A [D, C], a [D] and gradients; mu, 1 / sigma [D].
  int feature_dim_ = 0;
  Tensor adapter_w_, adapter_b_, adapter_gw_, adapter_gb_;
  std::vector<float> feature_mean_, feature_inv_std_;
  std::vector<float> feature_out_;  // FeatureStep's adapter output, then its gradient
  int epoch_ = 0;
  int64_t iteration_ = 0;
  double best_val_ = -1.0;
  int best_epoch_ = 0;
};

// Top-1 of each teacher and of their averaged probabilities on `data` (no augmentation),
// in the order of `teachers`, the ensemble last.
Expected<std::vector<double>> ScoreTeachers(const std::vector<std::unique_ptr<Teacher>>& teachers, const Dataset& data);

}  // namespace personcls
