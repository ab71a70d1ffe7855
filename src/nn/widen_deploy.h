// Starting a wider student from a narrower pretrained network (Net2WiderNet, Chen,
// Goodfellow and Shlens 2016), on deploy weights: the only pretrained MobileNetV2-Rep in
// ../shared is a width-0.35 network; widths 0.5 and 1.0 have more channels per layer and
// one stage more (4 blocks, the first with stride 2).
//
// Each layer l of the wide network maps its channels onto the narrow layer's:
// g_l(j) = j for j < n_l (the narrow count), else a random channel in [0, n_l). With
// count_l(i) = |{j : g_l(j) = i}|:
//   W'_l[j, kh, kw, c] = W_l[g_l(j), kh, kw, g_{l-1}(c)] / count_{l-1}(g_{l-1}(c))
//   b'_l[j]            = b_l[g_l(j)]
//   fc'[k, c]          = fc[k, g_last(c)] / count_last(g_last(c))    (when there is a head)
// The stem reads the 3 (or 1) image channels, which are not remapped. ReLU and ReLU6 act
// per channel, so wide channel j carries exactly narrow channel g(j) and the wide network
// computes the narrow one's function (up to float rounding of the divided sums). Blocks
// the narrow network lacks start as channel copies of their input (widen_deploy.cc), exact
// where their input map is 1x1 and close otherwise. Copies of a channel differ once
// training starts: the 1x1 branches that InitFromDeploy adds and the head are random per
// channel.
#pragma once

#include <cstdint>
#include <string>

#include "nn/rep_unfuse.h"
#include "personcls/arch.h"
#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls {

// The weights of `narrow` (pretrained for narrow_config) spread over wide_config's
// channels as above. wide_config must have the same input size and input channels, at
// least the narrow depth with the same strides, and at least as many channels in every
// layer; otherwise a one-line error. `seed` draws the extra channels' sources.
Expected<PretrainedDeploy> WidenDeploy(const ArchConfig& narrow_config, const ArchConfig& wide_config, const PretrainedDeploy& narrow,
                                       uint64_t seed);

struct PretrainedStart {
  PretrainedDeploy deploy;     // in `config`'s shapes
  std::string source_arch;     // the architecture the graph was read as (config's own, or a narrower one)
};

// ReadDeployWeights for `config`; when the graph is not of config's shapes, reads it as each
// narrower width of the same family and widens it (WidenDeploy). The error is the one for
// `config` when no width fits. `name` labels errors (the file).
Expected<PretrainedStart> ReadDeployWeightsForWidth(const ArchConfig& config, const Graph& graph, const std::string& name,
                                                    uint64_t seed);

}  // namespace personcls
