// The train form of SSCMA's MobileNetV2-Rep (docs/pytorch-twin.md) on the fp32 ops of
// src/ops: every parameter and BN buffer under SSCMA's state_dict names, a forward pass in
// train mode (batch statistics, running-stat updates) or eval mode (running statistics),
// and a backward pass that fills a gradient for every parameter.
//
// Layouts: activations NHWC; conv weights are held OHWI internally. LoadStateDict /
// ToStateDict / GradStateDict convert from / to PyTorch's OIHW. num_batches_tracked is held
// as int64 and appears in state dicts as a float.
//
// Buffers: activations, saved BN statistics and gradients are allocated once per input
// shape and reused by later steps of the same shape.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "personcls/arch.h"
#include "personcls/rep_fusion.h"
#include "personcls/status.h"

namespace personcls {

class Mbv2RepModel {
 public:
  // Zero parameters, BN running stats (0, 1), BN weights 1. Throws std::invalid_argument on
  // a bad config (see DescribeArch).
  explicit Mbv2RepModel(const ArchConfig& config);
  ~Mbv2RepModel();
  Mbv2RepModel(const Mbv2RepModel&) = delete;
  Mbv2RepModel& operator=(const Mbv2RepModel&) = delete;

  const ArchConfig& config() const { return config_; }
  const ArchSpec& spec() const { return spec_; }

  // Every parameter and buffer must be present with the right size (num_batches_tracked
  // may be missing: then 0). Extra keys are ignored. PyTorch layouts (conv OIHW).
  Status LoadStateDict(const StateDict& state);
  // All parameters and buffers, PyTorch layouts.
  StateDict ToStateDict() const;
  // Gradients of the last Backward, under the parameter names, PyTorch layouts.
  StateDict GradStateDict() const;

  // input NHWC [N, H, W, Cin]; returns logits [N, classes] (valid until the next Forward).
  // training: BN with batch statistics (needs N*OH*OW >= 2 at every BN) and running-stat
  // updates; otherwise BN with running statistics.
  const Tensor& Forward(const Tensor& input, bool training);
  // The globally pooled features [N, feature_channels] that fed the head in the last
  // Forward (valid until the next Forward).
  const Tensor& features() const;
  // dlogits [N, classes] of the last Forward; overwrites every parameter gradient.
  // dfeatures (optional, [N, feature_channels]) is a gradient of another loss on
  // features(), added to the one coming back through the head (feature distillation).
  void Backward(const Tensor& dlogits, const Tensor* dfeatures = nullptr);

  // Parameters in state_dict order with their gradients (internal layouts), for optimizers.
  struct ParamRef {
    std::string name;
    Tensor* value;
    Tensor* grad;
  };
  std::vector<ParamRef> Parameters();
  // Parameter names in the order of Parameters().
  std::vector<std::string> ParameterNames() const;
  // Buffer names (running_mean, running_var, num_batches_tracked).
  std::vector<std::string> BufferNames() const;

 private:
  struct Impl;
  ArchConfig config_;
  ArchSpec spec_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace personcls
