// personcls checkpoints (safetensors with SSCMA's PyTorch state_dict names) as runnable
// models: the train form is fused into the deploy form and built as a float32 Graph.
#pragma once

#include <memory>
#include <optional>
#include <string>

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
// Errors name the file.
Expected<std::shared_ptr<const Graph>> LoadCheckpointGraph(const std::string& path, const std::optional<std::string>& arch);

// True for file names personcls reads as checkpoints rather than .tflite models.
bool IsCheckpointPath(const std::string& path);

}  // namespace personcls
