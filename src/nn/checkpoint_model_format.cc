// Registers the checkpoint readers (.safetensors, .pth: LoadCheckpointGraph with the
// architecture inferred) with LoadModelFile (personcls/model.h) when this library is
// linked. The personcls::checkpoint target links with -u personcls_checkpoint_model_format
// so that a static link keeps this object (nothing else refers to it).
#include <optional>

#include "personcls/checkpoint.h"
#include "personcls/model.h"

namespace personcls {
namespace {

Expected<std::shared_ptr<const Graph>> LoadCheckpointFile(const std::string& path) { return LoadCheckpointGraph(path, std::nullopt); }

bool Register() {
  RegisterModelFormat({".safetensors", LoadCheckpointFile, nullptr});
  RegisterModelFormat({".pth", LoadCheckpointFile, nullptr});
  return true;
}

}  // namespace
}  // namespace personcls

extern "C" {
extern const bool personcls_checkpoint_model_format;
const bool personcls_checkpoint_model_format = personcls::Register();
}
