#include "formats/onnx/onnx_proto.h"

#include <bit>
#include <cstring>

namespace personcls::onnx_format {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");

Expected<std::vector<int64_t>> CheckedDims(const onnx::TensorProto& t) {
  if (t.dims_size() > kMaxRank) return Status::Error("rank " + std::to_string(t.dims_size()) + " exceeds " + std::to_string(kMaxRank));
  std::vector<int64_t> dims;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) return Status::Error("negative dimension " + std::to_string(d));
    if (d > kMaxElements || (n *= d) > kMaxElements) return Status::Error("too many elements");
    dims.push_back(d);
  }
  return dims;
}

int64_t NumElements(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

namespace {

Status CheckStorage(const onnx::TensorProto& t) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) return Status::Error("external data not supported");
  if (t.has_segment()) return Status::Error("segmented tensors not supported");
  return Status::Ok();
}

// Copies `n` elements of `Stored` from raw_data (little-endian) or the typed field.
// The sizes the dims declare are checked against the data the file holds before anything
// is allocated: dims alone (up to kMaxElements) must never size an allocation.
template <typename Out, typename Stored, typename Field>
Expected<std::vector<Out>> Read(const onnx::TensorProto& t, int64_t n, const Field& field) {
  if (!t.raw_data().empty()) {
    if (t.raw_data().size() != static_cast<size_t>(n) * sizeof(Stored))
      return Status::Error("raw_data holds " + std::to_string(t.raw_data().size()) + " bytes, dims need " + std::to_string(n * sizeof(Stored)));
    std::vector<Out> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      Stored v;
      std::memcpy(&v, t.raw_data().data() + i * sizeof(Stored), sizeof(Stored));
      out[i] = static_cast<Out>(v);
    }
    return out;
  }
  if (field.size() != n) return Status::Error("holds " + std::to_string(field.size()) + " values, dims need " + std::to_string(n));
  std::vector<Out> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<Out>(field.Get(static_cast<int>(i)));
  return out;
}

}  // namespace

Expected<std::vector<float>> FloatData(const onnx::TensorProto& t) {
  PCLS_RETURN_IF_ERROR(CheckStorage(t));
  if (t.data_type() != onnx::TensorProto::FLOAT) return Status::Error("must be float32 (data_type " + std::to_string(t.data_type()) + ")");
  PCLS_ASSIGN_OR_RETURN(auto dims, CheckedDims(t));
  return Read<float, float>(t, NumElements(dims), t.float_data());
}

Expected<std::vector<int64_t>> IntData(const onnx::TensorProto& t) {
  PCLS_RETURN_IF_ERROR(CheckStorage(t));
  PCLS_ASSIGN_OR_RETURN(auto dims, CheckedDims(t));
  const int64_t n = NumElements(dims);
  if (t.data_type() == onnx::TensorProto::INT64) return Read<int64_t, int64_t>(t, n, t.int64_data());
  if (t.data_type() == onnx::TensorProto::INT32) return Read<int64_t, int32_t>(t, n, t.int32_data());
  return Status::Error("must be int64 or int32 (data_type " + std::to_string(t.data_type()) + ")");
}

const onnx::AttributeProto* Attributes::Find(const std::string& name) const {
  for (const auto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

Expected<int64_t> Attributes::Int(const std::string& name, int64_t fallback) const {
  const auto* a = Find(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INT) return Status::Error("attribute '" + name + "' must be an int");
  return a->i();
}

Expected<float> Attributes::Float(const std::string& name, float fallback) const {
  const auto* a = Find(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT) return Status::Error("attribute '" + name + "' must be a float");
  return a->f();
}

Expected<std::string> Attributes::String(const std::string& name, const std::string& fallback) const {
  const auto* a = Find(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::STRING) return Status::Error("attribute '" + name + "' must be a string");
  return a->s();
}

Expected<std::vector<int64_t>> Attributes::Ints(const std::string& name, const std::vector<int64_t>& fallback) const {
  const auto* a = Find(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INTS) return Status::Error("attribute '" + name + "' must be a list of ints");
  if (a->ints_size() > kMaxRank * 2) return Status::Error("attribute '" + name + "' has too many values");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

}  // namespace personcls::onnx_format
