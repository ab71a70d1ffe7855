#include "nn/widen_deploy.h"

#include <random>
#include <vector>

namespace personcls {
namespace {

// g and count of one layer: narrow n channels spread over m >= n.
struct ChannelMap {
  std::vector<int> source;  // [m] g(j)
  std::vector<int> count;   // [n] copies of each narrow channel
};

ChannelMap MakeMap(int n, int m, std::mt19937_64& rng) {
  ChannelMap map;
  map.source.resize(static_cast<size_t>(m));
  map.count.assign(static_cast<size_t>(n), 0);
  for (int j = 0; j < m; ++j) {
    // rng() % n rather than a distribution: the same mapping with every standard library.
    const int g = j < n ? j : static_cast<int>(rng() % static_cast<uint64_t>(n));
    map.source[static_cast<size_t>(j)] = g;
    ++map.count[static_cast<size_t>(g)];
  }
  return map;
}

// Conv weights [out, 3, 3, in] (OHWI) widened; in_map null for the image input.
DeployWeights::Conv WidenConv(const DeployWeights::Conv& conv, int narrow_in, const ChannelMap* in_map, const ChannelMap& out_map,
                              int wide_in) {
  const int wide_out = static_cast<int>(out_map.source.size());
  DeployWeights::Conv r;
  r.weight.resize(static_cast<size_t>(wide_out) * 9 * wide_in);
  r.bias.resize(static_cast<size_t>(wide_out));
  for (int j = 0; j < wide_out; ++j) {
    const int gj = out_map.source[static_cast<size_t>(j)];
    r.bias[static_cast<size_t>(j)] = conv.bias[static_cast<size_t>(gj)];
    for (int k = 0; k < 9; ++k)
      for (int c = 0; c < wide_in; ++c) {
        const int gc = in_map ? in_map->source[static_cast<size_t>(c)] : c;
        const float divide = in_map ? static_cast<float>(in_map->count[static_cast<size_t>(gc)]) : 1.0f;
        r.weight[(static_cast<size_t>(j) * 9 + k) * wide_in + c] = conv.weight[(static_cast<size_t>(gj) * 9 + k) * narrow_in + gc] / divide;
      }
  }
  return r;
}

}  // namespace

Expected<PretrainedDeploy> WidenDeploy(const ArchConfig& narrow_config, const ArchConfig& wide_config, const PretrainedDeploy& narrow,
                                       uint64_t seed) {
  PCLS_ASSIGN_OR_RETURN(const ArchSpec ns, DescribeArch(narrow_config));
  PCLS_ASSIGN_OR_RETURN(const ArchSpec ws, DescribeArch(wide_config));
  const std::string what = "cannot widen " + narrow_config.name + " to " + wide_config.name;
  if (ns.blocks.size() > ws.blocks.size() || narrow_config.input_size != wide_config.input_size || narrow_config.gray != wide_config.gray)
    return Status::Error(what + ": it is shallower, or the input size or channels differ");
  std::vector<const ConvSpec*> nc{&ns.stem}, wc{&ws.stem};
  for (const ConvSpec& b : ns.blocks) nc.push_back(&b);
  for (const ConvSpec& b : ws.blocks) wc.push_back(&b);
  for (size_t l = 0; l < wc.size(); ++l) {
    const int narrow_out = l < nc.size() ? nc[l]->out_c : wc[l]->in_c;  // an added block starts as a copy of its input
    if (wc[l]->out_c < narrow_out || (l < nc.size() && (wc[l]->stride != nc[l]->stride || wc[l]->in_hw != nc[l]->in_hw)))
      return Status::Error(what + ": layer " + wc[l]->name + " has " + std::to_string(wc[l]->out_c) + " channels, fewer than " +
                           std::to_string(narrow_out) + ", or another stride");
  }
  std::mt19937_64 rng(seed);
  PretrainedDeploy wide;
  wide.has_head = narrow.has_head && narrow_config.num_classes == wide_config.num_classes;
  ChannelMap prev;
  for (size_t l = 0; l < nc.size(); ++l) {
    ChannelMap map = MakeMap(nc[l]->out_c, wc[l]->out_c, rng);
    const DeployWeights::Conv& src = l == 0 ? narrow.weights.stem : narrow.weights.blocks[l - 1];
    DeployWeights::Conv conv = WidenConv(src, nc[l]->in_c, l == 0 ? nullptr : &prev, map, wc[l]->in_c);
    (l == 0 ? wide.weights.stem : wide.weights.blocks.emplace_back()) = std::move(conv);
    prev = std::move(map);
  }
  // Blocks the narrow network lacks (width 0.35 has 3 stages, 0.5 and 1.0 have 4): output
  // channel j copies input channel h(j) through the centre tap (an identity after a ReLU,
  // whose input is already >= 0). A stride-2 block samples every other position, so the
  // function is kept exactly only where that block's input is 1x1, and approximately
  // (global average of a subsampled map) elsewhere.
  for (size_t l = nc.size(); l < wc.size(); ++l) {
    const int in_c = wc[l]->in_c, out_c = wc[l]->out_c;
    const ChannelMap h = MakeMap(in_c, out_c, rng);
    DeployWeights::Conv conv;
    conv.weight.assign(static_cast<size_t>(out_c) * 9 * in_c, 0.0f);
    conv.bias.assign(static_cast<size_t>(out_c), 0.0f);
    ChannelMap map;
    map.count.assign(prev.count.size(), 0);
    for (int j = 0; j < out_c; ++j) {
      const int c = h.source[static_cast<size_t>(j)];
      conv.weight[(static_cast<size_t>(j) * 9 + 4) * in_c + c] = 1.0f;
      const int g = prev.source[static_cast<size_t>(c)];
      map.source.push_back(g);
      ++map.count[static_cast<size_t>(g)];
    }
    wide.weights.blocks.push_back(std::move(conv));
    prev = std::move(map);
  }
  if (wide.has_head) {
    const int k = wide_config.num_classes, n = ns.feature_channels, m = ws.feature_channels;  // prev: the last layer's map
    wide.weights.fc_bias = narrow.weights.fc_bias;
    wide.weights.fc_weight.resize(static_cast<size_t>(k) * m);
    for (int i = 0; i < k; ++i)
      for (int c = 0; c < m; ++c) {
        const int g = prev.source[static_cast<size_t>(c)];
        wide.weights.fc_weight[static_cast<size_t>(i) * m + c] =
            narrow.weights.fc_weight[static_cast<size_t>(i) * n + g] / static_cast<float>(prev.count[static_cast<size_t>(g)]);
      }
  }
  return wide;
}

Expected<PretrainedStart> ReadDeployWeightsForWidth(const ArchConfig& config, const Graph& graph, const std::string& name,
                                                    uint64_t seed) {
  auto own = ReadDeployWeights(config, graph, name);
  if (own.ok()) return PretrainedStart{std::move(own).value(), config.name};
  for (const std::string& arch : ArchNames()) {
    auto narrow_config = ArchFromName(arch);
    if (!narrow_config.ok() || narrow_config->width >= config.width) continue;
    narrow_config->input_size = config.input_size;
    narrow_config->num_classes = config.num_classes;
    narrow_config->gray = config.gray;
    auto narrow = ReadDeployWeights(*narrow_config, graph, name);
    if (!narrow.ok()) continue;
    PCLS_ASSIGN_OR_RETURN(PretrainedDeploy wide, WidenDeploy(*narrow_config, config, *narrow, seed));
    return PretrainedStart{std::move(wide), arch};
  }
  return own.status();
}

}  // namespace personcls
