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

// Fuses every block. A state dict that already holds a block's deploy conv
// (`backbone.layerL.B.fuse_conv.{weight,bias}`) uses it as is. Errors name the first
// missing or mis-sized tensor.
Expected<DeployWeights> FuseStateDict(const ArchSpec& spec, int num_classes, const StateDict& state);

}  // namespace personcls
