// SSCMA's MobileNetV2-Rep person network ("MobileNetv2(rep=True)"): its architecture and
// the deploy-form graph (every RepConv1x1 block fused into one dense 3x3 conv + ReLU).
//
// Facts from SSCMA's code: stem 3x3 s2 conv (no bias) + BN + ReLU6 with
// make_divisible(32 w) outputs; rows (c, n, s) = (16,1,1) (24,2,2) (32,3,2) (64,4,2) ...;
// row i has n RepConv1x1 blocks with make_divisible(c w) * 2 outputs, the first with
// stride s. Width 1.0 and 0.5 run layers 1-4, width 0.35 layers 1-3. Head: global
// average pool, Linear(C -> classes), softmax.
#pragma once

#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls {

struct ArchConfig {
  std::string name;     // e.g. "mbv2-rep-0.35"
  double width = 0.35;  // 0.35, 0.5 or 1.0
  int input_size = 96;  // square input, H = W
  int num_classes = 2;
  bool gray = false;    // 1 input channel instead of 3
};

// Parses "mbv2-rep-0.35" | "mbv2-rep-0.5" | "mbv2-rep-1.0".
Expected<ArchConfig> ArchFromName(const std::string& name);
const std::vector<std::string>& ArchNames();

// SSCMA's make_divisible(v, 8): n = max(8, int(v + 4) / 8 * 8), plus 8 if n < 0.9 v.
int MakeDivisible(double v, int divisor = 8);

struct ConvSpec {
  std::string name;  // "conv1" (stem) or "layer2.1"
  int in_c = 0, out_c = 0, stride = 1;
  int in_hw = 0, out_hw = 0;  // spatial size before and after
};

struct ArchSpec {
  ConvSpec stem;
  std::vector<ConvSpec> blocks;  // RepConv1x1 blocks in order
  int feature_channels = 0;      // input of the linear head
};

Expected<ArchSpec> DescribeArch(const ArchConfig& config);

// Parameter counts: the deploy form (fused convs with bias, head) and the train form
// (every conv, BN weight and bias and linear parameter; BN running statistics excluded).
int64_t DeployParamCount(const ArchSpec& spec, int num_classes);
int64_t TrainParamCount(const ArchSpec& spec, int num_classes);

// Float weights of the deploy form; filters OHWI (TFLite layout), head [classes, C].
struct DeployWeights {
  struct Conv {
    std::vector<float> weight;  // [out, 3, 3, in]
    std::vector<float> bias;    // [out]
  };
  Conv stem;                  // BN folded in
  std::vector<Conv> blocks;   // one fused 3x3 conv per RepConv1x1 block
  std::vector<float> fc_weight;  // [classes, C]
  std::vector<float> fc_bias;    // [classes]
};

// Zero-filled weights of the right sizes.
DeployWeights ZeroDeployWeights(const ArchSpec& spec, int num_classes);

// The float32 deploy graph: [PAD 1 +] CONV_2D (stride-2 convs pad 1 on every side, as
// PyTorch, via an explicit PAD and a VALID conv; stride-1 convs SAME), ReLU6 after the stem,
// ReLU after blocks, MEAN over H and W, FULLY_CONNECTED, SOFTMAX (or LOGISTIC on one
// output when `sigmoid`). Input [1, S, S, 3|1] float (pixel / 255).
Expected<Graph> BuildDeployGraph(const ArchConfig& config, const DeployWeights& weights, bool sigmoid = false);

}  // namespace personcls
