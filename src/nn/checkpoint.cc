#include "personcls/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/memory_budget.h"
#include "formats/pth/pth_reader.h"
#include "formats/safetensors/safetensors.h"

namespace personcls {

namespace {
bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

bool IsCheckpointPath(const std::string& path) { return EndsWith(path, ".safetensors") || EndsWith(path, ".pth"); }

Expected<ArchConfig> InferArch(const StateDict& state, const std::optional<std::string>& arch, int input_size) {
  auto stem = state.find("backbone.conv1.conv.weight");
  auto bias = state.find("head.fc.bias");
  if (stem == state.end() || bias == state.end()) return Status::Error("not a MobileNetV2-Rep state dict (no backbone.conv1.conv.weight or head.fc.bias)");
  const std::vector<std::string> candidates = arch ? std::vector<std::string>{*arch} : ArchNames();
  for (const std::string& name : candidates) {
    PCLS_ASSIGN_OR_RETURN(ArchConfig c, ArchFromName(name));
    c.input_size = input_size;
    c.num_classes = static_cast<int>(bias->second.size());
    PCLS_ASSIGN_OR_RETURN(ArchSpec spec, DescribeArch(c));
    // Stem weight [out, in, 3, 3]: the input channel count tells gray from RGB.
    const size_t per_in = size_t{9} * spec.stem.out_c;
    const size_t in_c = stem->second.size() / per_in;
    bool fits = stem->second.size() % per_in == 0 && (in_c == 1 || in_c == 3);
    c.gray = in_c == 1;
    PCLS_ASSIGN_OR_RETURN(spec, DescribeArch(c));
    // Every block's 3x3 weight and the head must have this preset's sizes.
    for (const ConvSpec& b : spec.blocks) {
      const std::string p = "backbone." + b.name;
      auto w = state.find(p + ".conv3x3.conv.weight");
      if (w == state.end()) w = state.find(p + ".fuse_conv.weight");
      if (w == state.end() || w->second.size() != size_t{9} * b.in_c * b.out_c) fits = false;
    }
    auto fc = state.find("head.fc.weight");
    if (fc == state.end() || fc->second.size() != size_t{1} * spec.feature_channels * c.num_classes) fits = false;
    if (fits) return c;
    if (arch) return Status::Error("tensor shapes do not match --arch " + *arch);
  }
  return Status::Error("tensor shapes match no known architecture (mbv2-rep-0.35, -0.5, -1.0)");
}

Expected<Graph> DeployGraphFromStateDict(const StateDict& state, const std::optional<std::string>& arch, int input_size) {
  PCLS_ASSIGN_OR_RETURN(ArchConfig config, InferArch(state, arch, input_size));
  PCLS_ASSIGN_OR_RETURN(ArchSpec spec, DescribeArch(config));
  FusionSource source;
  PCLS_ASSIGN_OR_RETURN(DeployWeights weights, FuseStateDict(spec, config.num_classes, state, &source));
  PCLS_ASSIGN_OR_RETURN(Graph graph, BuildDeployGraph(config, weights));
  graph.description = "personcls " + config.name + " (fused from a checkpoint: " + source.Describe() + ")";
  return graph;
}

std::string UnusedLayersNote(const std::string& path, const StateDict& state, const ArchSpec& spec) {
  // Layer index of a name "backbone.layerK.<...>", or 0.
  auto layer_of = [](const std::string& name) {
    const std::string prefix = "backbone.layer";
    if (name.compare(0, prefix.size(), prefix) != 0) return 0;
    char* end = nullptr;
    const long k = std::strtol(name.c_str() + prefix.size(), &end, 10);
    return (end && *end == '.' && k > 0 && k < 1000) ? static_cast<int>(k) : 0;
  };
  int used = 0;
  for (const ConvSpec& b : spec.blocks) used = std::max(used, layer_of("backbone." + b.name));
  size_t count = 0;
  int lo = 0, hi = 0;
  for (const auto& entry : state) {
    const int k = layer_of(entry.first);
    if (k <= used) continue;
    ++count;
    lo = lo == 0 ? k : std::min(lo, k);
    hi = std::max(hi, k);
  }
  if (count == 0) return "";
  const std::string layers = lo == hi ? "layer layer" + std::to_string(lo) : "layers layer" + std::to_string(lo) + "..layer" + std::to_string(hi);
  return "note: " + path + ": ignoring " + std::to_string(count) + (count == 1 ? " tensor" : " tensors") + " of unused " + layers;
}

namespace {

Expected<std::shared_ptr<const Graph>> LoadCheckpointGraphUnguarded(const std::string& path, const std::optional<std::string>& arch,
                                                                    std::vector<std::string>* notes) {
  // SSCMA's own .pth files hold layers the presets never run (layer4-7 for width 0.35);
  // fusion reads only the tensors the preset needs, so those are ignored with a note.
  auto file = EndsWith(path, ".pth") ? pth::ReadStateDict(path) : safetensors::ReadFile(path);
  if (!file.ok()) return file.status();
  StateDict state;
  for (const auto& [name, tensor] : file->tensors) state[name] = tensor.AsFloat();
  int input_size = 96;
  if (auto it = file->metadata.find("input_size"); it != file->metadata.end()) {
    try {
      input_size = std::stoi(it->second);
    } catch (const std::exception&) {
      return Status::Error(path + ": metadata input_size '" + it->second + "' is not a number");
    }
  }
  auto graph = DeployGraphFromStateDict(state, arch, input_size);
  if (!graph.ok()) return graph.status().WithContext(path);
  if (auto config = InferArch(state, arch, input_size); config.ok()) {
    if (auto spec = DescribeArch(*config); spec.ok()) {
      if (std::string note = UnusedLayersNote(path, state, *spec); !note.empty()) {
        if (notes)
          notes->push_back(note);
        else
          std::fprintf(stderr, "%s\n", note.c_str());
      }
    }
  }
  // The checkpoint's metadata (labels, and the provenance the trainer and the distiller
  // record: arch, epoch, distill recipe, teachers, ...) travels with the graph, so that
  // exported models still say how they were made.
  for (const auto& [key, value] : file->metadata) graph->metadata[key] = std::vector<uint8_t>(value.begin(), value.end());
  return std::shared_ptr<const Graph>(std::make_shared<Graph>(std::move(graph).value()));
}

}  // namespace

Expected<std::shared_ptr<const Graph>> LoadCheckpointGraph(const std::string& path, const std::optional<std::string>& arch,
                                                           std::vector<std::string>* notes) {
  // The readers bound their own allocations; converting and fusing the tensors may still
  // meet a memory limit, which must name the file too.
  return GuardAllocation(path, [&] { return LoadCheckpointGraphUnguarded(path, arch, notes); });
}

}  // namespace personcls
