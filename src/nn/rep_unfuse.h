// Starting the train form of MobileNetV2-Rep from a deploy-form network (the inverse of
// rep_fusion, as an initialization): the pretrained person of this project is SSCMA's own
// MobileNetV2-0.35-Rep trained on CIFAR-10 (../shared/models), whose backbone has exactly
// the shapes of our width-0.35 student. Its 3x3 filters are a far better start for a
// student that sees a few thousand images than a random init.
//
// The train form can express any deploy conv exactly:
//   stem:   conv = W, norm = (gamma = batch std, beta = batch mean + b)     -> W x + b
//   block:  conv3x3.conv = (W, b), conv3x3.norm = (batch std, batch mean)   -> W x + b
//           norm.i = identity on that output (its batch std and mean), conv.i.norm and
//           dense_norm = (0, 0)                                             -> the chain adds 0
// In train mode BN normalizes with the statistics of each batch, so gamma and beta are
// set from a calibration batch, block by block in network order (each block's statistics
// depend on the blocks before it). On that batch the train form then equals the deploy
// network up to BN's eps; on other batches it is close. The conv.i 1x1 weights keep their
// random init: with a zero BN weight their branch contributes nothing yet but still gets
// gradients, so training can grow it.
#pragma once

#include <string>

#include "core/tensor.h"
#include "nn/mbv2_rep_model.h"
#include "personcls/arch.h"
#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls {

struct PretrainedDeploy {
  DeployWeights weights;  // stem and blocks always; fc_* only when has_head
  bool has_head = false;  // the graph's linear head has the student's number of classes
};

// Reads the deploy convs of `graph` (float32, or int8 with per-channel weights, which are
// dequantized: w = s_o (q - z_o), b = s_bias,o q): its CONV_2D ops in order must be the
// stem and one 3x3 conv per block of `config`, with the spec's channels and strides, ReLU6
// after the stem and ReLU after the blocks. An int8 input must mean pixel / 255 (scale
// 1/255, zero point -128), as the student's. `name` labels errors (the file).
Expected<PretrainedDeploy> ReadDeployWeights(const ArchConfig& config, const Graph& graph, const std::string& name);

// Overwrites `model`'s parameters and BN statistics as described above. `calib` is a
// calibration batch NHWC [N, S, S, 3] (pixel / 255; N * (S/8)^2 >= 2). The head is taken
// from `pretrained` when it has one, else left as it is. Every BN's running statistics
// end as the statistics of `calib` at that BN (mean and unbiased variance), so the model
// is also usable in eval mode. num_batches_tracked is left unchanged.
void InitFromDeploy(Mbv2RepModel& model, const PretrainedDeploy& pretrained, const Tensor& calib);

}  // namespace personcls
