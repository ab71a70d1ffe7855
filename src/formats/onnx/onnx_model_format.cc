// Registers the ONNX reader with LoadModelFile/LoadModelBytes (personcls/model.h) when this
// library is linked. The personcls::onnx target links with -u personcls_onnx_model_format
// so that a static link keeps this object (nothing else refers to it).
#include <memory>

#include "formats/onnx/onnx_reader.h"
#include "personcls/model.h"

namespace personcls {
namespace {

Expected<std::shared_ptr<const Graph>> LoadOnnxBytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& name) {
  auto graph = onnx_format::ReadOnnx(*bytes, name);
  if (!graph.ok()) return graph.status();
  return std::shared_ptr<const Graph>(std::make_shared<Graph>(std::move(graph).value()));
}

bool Register() {
  RegisterModelFormat({".onnx", nullptr, LoadOnnxBytes});
  return true;
}

}  // namespace
}  // namespace personcls

extern "C" {
extern const bool personcls_onnx_model_format;
const bool personcls_onnx_model_format = personcls::Register();
}
