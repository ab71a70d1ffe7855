#include "nn/optimizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace personcls {

SgdOptimizer::SgdOptimizer(const SgdOptions& options) : options_(options) {
  if (!(options.momentum >= 0)) throw std::invalid_argument("SGD momentum must be >= 0");
  if (!(options.weight_decay >= 0)) throw std::invalid_argument("SGD weight_decay must be >= 0");
}

void SgdOptimizer::Reset() {
  step_count_ = 0;
  state_.clear();
}

void SgdOptimizer::LoadState(std::vector<ParamState> state, int64_t step_count) {
  if (step_count < 0) throw std::invalid_argument("SGD step count must be >= 0");
  state_ = std::move(state);
  step_count_ = step_count;
}

void SgdOptimizer::Step(const std::vector<Mbv2RepModel::ParamRef>& params, double lr) {
  if (state_.empty() && !params.empty()) {
    state_.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) state_[i].name = params[i].name;
  }
  if (state_.size() != params.size())
    throw std::invalid_argument("SGD step with " + std::to_string(params.size()) + " parameters, state has " + std::to_string(state_.size()));
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    if (!p.value || !p.grad) throw std::invalid_argument("SGD parameter " + p.name + " has no value or gradient");
    if (p.value->numel() != p.grad->numel()) throw std::invalid_argument("SGD parameter " + p.name + ": gradient size differs from the value's");
    if (state_[i].name != p.name) throw std::invalid_argument("SGD parameter " + std::to_string(i) + " is " + p.name + ", state has " + state_[i].name);
    if (state_[i].has_momentum_buffer && static_cast<int64_t>(state_[i].momentum_buffer.size()) != p.value->numel())
      throw std::invalid_argument("SGD momentum buffer of " + p.name + " has the wrong size");
  }

  const float wd = static_cast<float>(options_.weight_decay);
  const float mom = static_cast<float>(options_.momentum);
  const float neg_lr = static_cast<float>(-lr);
  for (size_t i = 0; i < params.size(); ++i) {
    float* w = params[i].value->ptr();
    const float* g = params[i].grad->ptr();
    const size_t n = static_cast<size_t>(params[i].value->numel());
    ParamState& st = state_[i];
    if (options_.momentum == 0) {
      for (size_t j = 0; j < n; ++j) w[j] += neg_lr * (g[j] + wd * w[j]);
      continue;
    }
    if (!st.has_momentum_buffer) {
      st.momentum_buffer.resize(n);
      float* buf = st.momentum_buffer.data();
      for (size_t j = 0; j < n; ++j) {
        const float d = g[j] + wd * w[j];
        buf[j] = d;
        w[j] += neg_lr * d;
      }
      st.has_momentum_buffer = true;
    } else {
      float* buf = st.momentum_buffer.data();
      for (size_t j = 0; j < n; ++j) {
        const float d = g[j] + wd * w[j];
        const float b = mom * buf[j] + d;
        buf[j] = b;
        w[j] += neg_lr * b;
      }
    }
  }
  ++step_count_;
}

AdamWOptimizer::AdamWOptimizer(const AdamWOptions& options) : options_(options) {
  if (!(options.beta1 >= 0 && options.beta1 < 1) || !(options.beta2 >= 0 && options.beta2 < 1))
    throw std::invalid_argument("AdamW betas must be in [0, 1)");
  if (!(options.eps > 0)) throw std::invalid_argument("AdamW eps must be > 0");
  if (!(options.weight_decay >= 0)) throw std::invalid_argument("AdamW weight_decay must be >= 0");
}

void AdamWOptimizer::LoadState(std::vector<ParamState> state, int64_t step_count) {
  if (step_count < 0) throw std::invalid_argument("AdamW step count must be >= 0");
  state_ = std::move(state);
  step_count_ = step_count;
}

void AdamWOptimizer::Step(const std::vector<Mbv2RepModel::ParamRef>& params, double lr) {
  if (state_.empty()) {
    state_.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      state_[i].name = params[i].name;
      if (params[i].value) {
        state_[i].exp_avg.assign(static_cast<size_t>(params[i].value->numel()), 0.0f);
        state_[i].exp_avg_sq.assign(static_cast<size_t>(params[i].value->numel()), 0.0f);
      }
    }
  }
  if (state_.size() != params.size())
    throw std::invalid_argument("AdamW step with " + std::to_string(params.size()) + " parameters, state has " + std::to_string(state_.size()));
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    if (!p.value || !p.grad) throw std::invalid_argument("AdamW parameter " + p.name + " has no value or gradient");
    if (state_[i].name != p.name) throw std::invalid_argument("AdamW parameter " + std::to_string(i) + " is " + p.name + ", state has " + state_[i].name);
    if (p.grad->numel() != p.value->numel() || static_cast<int64_t>(state_[i].exp_avg.size()) != p.value->numel())
      throw std::invalid_argument("AdamW parameter " + p.name + ": sizes of value, gradient and state differ");
  }
  ++step_count_;
  const double t = static_cast<double>(step_count_);
  const float decay = static_cast<float>(1.0 - lr * options_.weight_decay);
  const float b1 = static_cast<float>(options_.beta1), one_minus_b1 = static_cast<float>(1.0 - options_.beta1);
  const float b2 = static_cast<float>(options_.beta2), one_minus_b2 = static_cast<float>(1.0 - options_.beta2);
  const float neg_step_size = static_cast<float>(-lr / (1.0 - std::pow(options_.beta1, t)));
  const float bc2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(options_.beta2, t)));
  const float eps = static_cast<float>(options_.eps);
  for (size_t i = 0; i < params.size(); ++i) {
    float* w = params[i].value->ptr();
    const float* g = params[i].grad->ptr();
    float* m = state_[i].exp_avg.data();
    float* v = state_[i].exp_avg_sq.data();
    const size_t n = state_[i].exp_avg.size();
    for (size_t j = 0; j < n; ++j) {
      w[j] *= decay;
      m[j] = m[j] * b1 + one_minus_b1 * g[j];
      v[j] = v[j] * b2 + one_minus_b2 * (g[j] * g[j]);
      const float denom = std::sqrt(v[j]) / bc2_sqrt + eps;
      w[j] += neg_step_size * (m[j] / denom);
    }
  }
}

LrSchedule::LrSchedule(Options options) : options_(std::move(options)) {
  if (!(options_.base_lr > 0)) throw std::invalid_argument("base_lr must be > 0");
  if (options_.warmup_iters < 0) throw std::invalid_argument("warmup_iters must be >= 0");
  if (!(options_.warmup_start_factor > 0 && options_.warmup_start_factor <= 1))
    throw std::invalid_argument("warmup start factor must be in (0, 1]");
  if (!(options_.gamma > 0)) throw std::invalid_argument("gamma must be > 0");
  if (options_.cosine_epochs < 1) throw std::invalid_argument("cosine_epochs must be >= 1");
  std::sort(options_.milestones.begin(), options_.milestones.end());
}

double LrSchedule::warmup_factor(int64_t iteration) const {
  const int64_t n = options_.warmup_iters;
  if (n == 0) return 1.0;
  const int64_t i = std::clamp<int64_t>(iteration, 0, n);
  const double s = options_.warmup_start_factor;
  return s + (1.0 - s) * static_cast<double>(i) / static_cast<double>(n);
}

double LrSchedule::main_lr(int epoch) const {
  if (epoch < 0) epoch = 0;
  if (options_.decay == Decay::kCosine) {
    const int t = options_.cosine_epochs;
    const double e = static_cast<double>(std::min(epoch, t));
    const double pi = 3.14159265358979323846;
    return options_.eta_min + (options_.base_lr - options_.eta_min) * (1.0 + std::cos(pi * e / t)) / 2.0;
  }
  double lr = options_.base_lr;
  for (int m : options_.milestones)
    if (m <= epoch) lr *= options_.gamma;
  return lr;
}

double LrSchedule::lr_at(int64_t iteration, int epoch) const { return main_lr(epoch) * warmup_factor(iteration); }

}  // namespace personcls
