// Checked access to parsed ONNX protobuf messages: initializer data and node attributes.
// Everything here distrusts the message: sizes, types and counts are checked and errors
// are returned as Status lines, never asserted.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "personcls/status.h"

namespace personcls::onnx_format {

// No tensor personcls runs comes near this; it keeps every size computation in int64.
inline constexpr int64_t kMaxElements = int64_t{1} << 28;
inline constexpr int kMaxRank = 6;

// Dims of an initializer: rank <= kMaxRank, each >= 0, product <= kMaxElements.
Expected<std::vector<int64_t>> CheckedDims(const onnx::TensorProto& t);
// Element count of checked dims.
int64_t NumElements(const std::vector<int64_t>& dims);

// Data of a FLOAT initializer (raw_data or float_data, sizes checked against dims).
Expected<std::vector<float>> FloatData(const onnx::TensorProto& t);
// Data of an INT64 or INT32 initializer.
Expected<std::vector<int64_t>> IntData(const onnx::TensorProto& t);

// A node's attributes by name; a missing one gives the default, one of the wrong type an
// error naming it.
class Attributes {
 public:
  explicit Attributes(const onnx::NodeProto& node) : node_(node) {}
  Expected<int64_t> Int(const std::string& name, int64_t fallback) const;
  Expected<float> Float(const std::string& name, float fallback) const;
  Expected<std::string> String(const std::string& name, const std::string& fallback) const;
  Expected<std::vector<int64_t>> Ints(const std::string& name, const std::vector<int64_t>& fallback) const;

 private:
  const onnx::AttributeProto* Find(const std::string& name) const;
  const onnx::NodeProto& node_;
};

}  // namespace personcls::onnx_format
