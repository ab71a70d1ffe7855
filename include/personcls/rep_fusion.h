// Folding the train form of MobileNetV2-Rep into its deploy form.
//
// Input: a state dict with SSCMA's PyTorch names and layouts (conv weights OIHW, BN
// weight/bias/running_mean/running_var). Output: DeployWeights (filters OHWI) that
// BuildDeployGraph turns into a runnable graph. The maths is exact; only float rounding
// differs from the train form in eval mode (the arithmetic runs in double).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "personcls/arch.h"
#include "personcls/status.h"

namespace personcls {

// name -> values; shapes are implied by the architecture and checked by size.
using StateDict = std::map<std::string, std::vector<float>>;

constexpr double kBatchNormEps = 1e-5;

// Where each block's deploy conv came from.
struct FusionSource {
  int from_branches = 0;       // fused from the train-form branches (conv3x3, conv.i, norm.i, dense_norm)
  int from_fuse_conv = 0;      // deploy-only block: its stored fuse_conv taken as is
  int ignored_fuse_conv = 0;   // blocks fused from branches whose stored fuse_conv was ignored
  // One line for `info`, e.g. "6 RepConv1x1 blocks fused from their train-form branches
  // (their stored fuse_conv ignored)".
  std::string Describe() const;
};

// Fuses every block. The train-form branches are the truth whenever a block has them
// (`...conv3x3.conv.weight` present): SSCMA's RepConv1x1 owns a `fuse_conv` from __init__
// and refreshes it only when the module enters eval mode, so in a saved checkpoint it is
// stale or still random. A block's `backbone.layerL.B.fuse_conv.{weight,bias}` is used only
// when the block has no branches (a deploy-only state dict). Errors name the first missing
// or mis-sized tensor; `source` (optional) says which form each block came from.
Expected<DeployWeights> FuseStateDict(const ArchSpec& spec, int num_classes, const StateDict& state, FusionSource* source = nullptr);

}  // namespace personcls
