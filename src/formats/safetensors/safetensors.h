// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"key": "value"}}, then the raw little-endian tensor bytes.
// Used for personcls checkpoints (tensor names are SSCMA's PyTorch state_dict keys, layouts
// PyTorch's) and for the PyTorch twin's golden files.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "personcls/status.h"

namespace personcls::safetensors {

struct Tensor {
  std::string dtype;  // "F32", "F64", "I64", "I32", "U8", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // raw little-endian data

  int64_t num_elements() const;
  // Element values converted to float / int64 (for F32/F64 and I64/I32 tensors).
  std::vector<float> AsFloat() const;
  std::vector<int64_t> AsInt64() const;
};

struct File {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Parses and validates (offsets in range, contiguous, sizes matching dtype x shape). Errors
// name `name`.
Expected<File> Parse(const std::vector<uint8_t>& bytes, const std::string& name);
Expected<File> ReadFile(const std::string& path);

std::vector<uint8_t> Serialize(const File& file);
// Writes atomically: a temporary file in the same directory, then rename.
Status WriteFile(const std::string& path, const File& file);

Tensor FromFloat(const std::vector<float>& values, std::vector<int64_t> shape);

}  // namespace personcls::safetensors
