// SGD with momentum and weight decay (PyTorch's torch.optim.SGD semantics), AdamW, and the learning
// rate schedule of the trainer (linear warm-up per iteration, then multi-step or cosine
// decay per epoch).
//
// SGD, for every parameter p with gradient g (dampening 0, no Nesterov, not maximize):
//   d = g + weight_decay * p
//   buf = d                      on the parameter's first step
//   buf = momentum * buf + d     afterwards
//   p = p - lr * buf
// With momentum 0 no buffer is kept and p = p - lr * d. Arithmetic is float32, as PyTorch
// does it for float32 parameters (lr, momentum and weight_decay are rounded to float).
//
// State for checkpointing: one momentum buffer per parameter (in the parameter's own,
// internal layout: conv weights OHWI for Mbv2RepModel; convert to OIHW for a PyTorch
// checkpoint) and the number of Step calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/mbv2_rep_model.h"
#include "personcls/status.h"

namespace personcls {

struct SgdOptions {
  double momentum = 0.9;
  double weight_decay = 1e-4;
};

class SgdOptimizer {
 public:
  // Throws std::invalid_argument on a negative momentum or weight decay.
  explicit SgdOptimizer(const SgdOptions& options = {});

  const SgdOptions& options() const { return options_; }

  // One update of every parameter in `params` (same list, same order, same sizes on every
  // call; the first call fixes them). Throws std::invalid_argument on a mismatch, a null
  // pointer or a gradient whose size differs from its value's.
  void Step(const std::vector<Mbv2RepModel::ParamRef>& params, double lr);

  // Number of Step calls so far.
  int64_t step_count() const { return step_count_; }

  struct ParamState {
    std::string name;
    bool has_momentum_buffer = false;  // false before the first step (and with momentum 0)
    std::vector<float> momentum_buffer;
  };
  // One entry per parameter, in the order of Step's params (empty before the first step).
  const std::vector<ParamState>& state() const { return state_; }

  // Restores a saved state (e.g. from a checkpoint). The next Step must pass parameters with
  // the same names, order and sizes; Step checks this.
  void LoadState(std::vector<ParamState> state, int64_t step_count);
  // Forgets all buffers and the step count.
  void Reset();

 private:
  SgdOptions options_;
  int64_t step_count_ = 0;
  std::vector<ParamState> state_;
};

// AdamW (Loshchilov & Hutter; PyTorch's torch.optim.AdamW, amsgrad off, not maximize):
// for every parameter p with gradient g, at step t = 1, 2, ...
//   p = p * (1 - lr * weight_decay)                (decoupled weight decay, every parameter)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// m and v start at 0. Tensor arithmetic in float32 with the scalar factors computed in
// double and rounded to float, as PyTorch's single-tensor implementation does.
struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

class AdamWOptimizer {
 public:
  // Throws std::invalid_argument on betas outside [0, 1), eps <= 0 or weight decay < 0.
  explicit AdamWOptimizer(const AdamWOptions& options = {});

  const AdamWOptions& options() const { return options_; }

  // One update of every parameter (same list, order and sizes on every call; the first
  // call fixes them). Throws std::invalid_argument on a mismatch or a missing gradient.
  void Step(const std::vector<Mbv2RepModel::ParamRef>& params, double lr);

  int64_t step_count() const { return step_count_; }

  struct ParamState {
    std::string name;
    std::vector<float> exp_avg, exp_avg_sq;  // m and v, the parameter's own layout
  };
  const std::vector<ParamState>& state() const { return state_; }

  // Restores a saved state (a resumed run). The next Step checks names, order and sizes.
  void LoadState(std::vector<ParamState> state, int64_t step_count);

 private:
  AdamWOptions options_;
  int64_t step_count_ = 0;
  std::vector<ParamState> state_;
};

// Learning rate as a function of (iteration, epoch), both counted from 0:
//   lr = main(epoch) * warmup(iteration)
//   warmup(i) = start_factor + (1 - start_factor) * min(i, warmup_iters) / warmup_iters
//              (PyTorch LinearLR(start_factor, end_factor=1, total_iters=warmup_iters)
//               stepped once per iteration, in closed form; 1 when warmup_iters is 0)
//   kMultiStep: main(e) = base_lr * gamma ^ (number of milestones <= e)
//              (MultiStepLR stepped once per epoch)
//   kCosine:   main(e) = eta_min + (base_lr - eta_min) * (1 + cos(pi * min(e, T) / T)) / 2,
//              T = cosine_epochs (CosineAnnealingLR(T_max = T) stepped once per epoch)
class LrSchedule {
 public:
  enum class Decay { kMultiStep, kCosine };
  struct Options {
    double base_lr = 0.01;
    int64_t warmup_iters = 0;
    double warmup_start_factor = 0.001;
    Decay decay = Decay::kMultiStep;
    std::vector<int> milestones;  // epochs, for kMultiStep
    double gamma = 0.1;
    int cosine_epochs = 1;  // T, for kCosine
    double eta_min = 0.0;
  };

  // Throws std::invalid_argument on base_lr <= 0, warmup_iters < 0, a start factor outside
  // (0, 1], gamma <= 0 or cosine_epochs < 1.
  explicit LrSchedule(Options options);
  const Options& options() const { return options_; }

  double lr_at(int64_t iteration, int epoch) const;
  double warmup_factor(int64_t iteration) const;
  double main_lr(int epoch) const;

 private:
  Options options_;
};

}  // namespace personcls
