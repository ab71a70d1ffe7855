#include "personcls/preprocess.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <cstdio>

#include "core/tensor.h"

namespace personcls {

Status CheckInputNormalization(const InputNormalization& n) {
  if (!std::isfinite(n.mean)) return Status::Error("input mean " + std::to_string(n.mean) + " is not a finite number");
  if (!std::isfinite(n.scale) || !(n.scale > 0)) return Status::Error("input scale " + std::to_string(n.scale) + " must be finite and positive");
  return Status::Ok();
}

Expected<std::optional<InputNormalization>> ReadNormalizationMetadata(const Graph& graph) {
  auto it = graph.metadata.find("normalization");
  if (it == graph.metadata.end()) return std::optional<InputNormalization>();
  InputNormalization n;
  const std::string text(it->second.begin(), it->second.end());
  // Printable excerpt for the message: the metadata may hold any bytes.
  std::string shown = text.substr(0, 80);
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (std::sscanf(text.c_str(), "mean=%f,scale=%f", &n.mean, &n.scale) != 2)
    return Status::Error("metadata 'normalization' must read mean=M,scale=S, is '" + shown + "'");
  if (Status s = CheckInputNormalization(n); !s.ok()) return Status::Error("metadata 'normalization' '" + shown + "': " + s.message());
  return std::optional<InputNormalization>(n);
}

Status FillInputTensor(const Image& image, const TensorDesc& desc, void* data, const std::optional<InputNormalization>& norm) {
  if (desc.shape.size() != 4 || desc.shape[0] != 1 || (desc.shape[3] != 1 && desc.shape[3] != 3) || desc.shape[1] < 1 || desc.shape[2] < 1)
    return Status::Error("model input " + ShapeToString(desc.shape) + " is not an image tensor [1,H,W,1|3]");
  if (desc.dtype != DType::kInt8 && desc.dtype != DType::kFloat32)
    return Status::Error(std::string("model input type ") + DTypeName(desc.dtype) + " not supported for images");
  if (desc.dtype == DType::kInt8 && norm && desc.quant.scale.size() != 1)
    return Status::Error("int8 model input has no per-tensor quantization");
  // Non-finite values would give NaN inputs, and for int8 a NaN-to-int8 cast (undefined).
  if (norm) PCLS_RETURN_IF_ERROR(CheckInputNormalization(*norm));
  if (desc.dtype == DType::kInt8 && norm && !(std::isfinite(desc.quant.scale[0]) && desc.quant.scale[0] > 0))
    return Status::Error("int8 model input has a non-positive or non-finite scale");
  const int h = desc.shape[1], w = desc.shape[2], c = desc.shape[3];
  Image resized = ResizeBilinear(image, w, h);
  Image pixels = c == 1 ? ToGray(resized) : ToRgb(resized);
  const size_t n = static_cast<size_t>(h) * w * c;
  if (desc.dtype == DType::kInt8) {
    auto* out = static_cast<int8_t*>(data);
    if (!norm) {
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(static_cast<int>(pixels.pixels[i]) - 128);
    } else {
      const float s = desc.quant.scale[0];
      const int32_t z = desc.quant.zero_point[0];
      for (size_t i = 0; i < n; ++i) {
        const float x = (static_cast<float>(pixels.pixels[i]) - norm->mean) * norm->scale;
        const float q = std::round(x / s) + static_cast<float>(z);
        out[i] = static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
      }
    }
  } else {
    auto* out = static_cast<float*>(data);
    if (!norm) {
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(pixels.pixels[i]) / 255.0f;
    } else {
      for (size_t i = 0; i < n; ++i) out[i] = (static_cast<float>(pixels.pixels[i]) - norm->mean) * norm->scale;
    }
  }
  return Status::Ok();
}

}  // namespace personcls
