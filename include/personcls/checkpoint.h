// personcls checkpoints (safetensors with SSCMA's PyTorch state_dict names) as runnable
// models: the train form is fused into the deploy form and built as a float32 Graph.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "personcls/arch.h"
#include "personcls/graph.h"
#include "personcls/rep_fusion.h"
#include "personcls/status.h"

namespace personcls {

// Infers the preset from tensor shapes (stem width, block count, channels; the number of
// classes from head.fc.bias, gray from the stem's input channels) unless `arch` names one.
Expected<ArchConfig> InferArch(const StateDict& state, const std::optional<std::string>& arch, int input_size = 96);

// Fuses and builds the deploy graph of a state dict.
Expected<Graph> DeployGraphFromStateDict(const StateDict& state, const std::optional<std::string>& arch, int input_size = 96);

// Reads a .safetensors checkpoint (metadata "input_size" is honoured) or a PyTorch .pth
// (plain state_dict or mmengine checkpoint) into a deploy graph.
// Errors name the file. Tensors the model does not use (see UnusedLayersNote) are ignored
// with a one-line note: appended to *notes, or printed on stderr when notes is nullptr.
Expected<std::shared_ptr<const Graph>> LoadCheckpointGraph(const std::string& path, const std::optional<std::string>& arch,
                                                           std::vector<std::string>* notes = nullptr);

// SSCMA builds backbone layer1..layer7 and its presets run only the first 3 or 4 (its .pth
// files hold them all). For the tensors of `state` under backbone.layerK with K past the
// last layer of `spec`: "note: PATH: ignoring N tensors of unused layers layerA..layerB"
// ("... of unused layer layerA" for one layer); "" when there are none.
std::string UnusedLayersNote(const std::string& path, const StateDict& state, const ArchSpec& spec);

// True for file names personcls reads as checkpoints rather than .tflite models.
bool IsCheckpointPath(const std::string& path);

}  // namespace personcls
