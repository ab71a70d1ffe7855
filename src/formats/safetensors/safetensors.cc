#include "formats/safetensors/safetensors.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "core/atomic_file.h"
#include "core/file_bytes.h"
#include "core/memory_budget.h"

namespace personcls::safetensors {
namespace {

int64_t DTypeBytes(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

constexpr uint64_t kMaxHeaderBytes = 100 << 20;

// What nlohmann::json allocates per parse event (a value, or an object member's map node
// and key), rounded up; strings add their length.
constexpr uint64_t kJsonEventCost = 96;

struct HeaderRefused {
  std::string message;
};

// The JSON header, parsed with its memory charged to `budget` and its nesting limited to
// what the format has ({name: {"shape": [d, ...]}}: depth 3), so that a header of small
// tokens cannot expand without bound.
Expected<nlohmann::json> ParseHeader(const uint8_t* begin, const uint8_t* end, MemoryBudget& budget) {
  auto charge = [&budget](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth > 3) throw HeaderRefused{"JSON header nested deeper than the format allows"};
    uint64_t cost = kJsonEventCost;
    if (event == nlohmann::json::parse_event_t::key || (event == nlohmann::json::parse_event_t::value && parsed.is_string()))
      cost += parsed.get_ref<const std::string&>().size();
    if (!budget.TryTake(cost)) throw HeaderRefused{budget.RefusalMessage(cost, "JSON header")};
    return true;
  };
  try {
    nlohmann::json header = nlohmann::json::parse(begin, end, charge, false);
    if (header.is_discarded()) return Status::Error("malformed JSON header");
    return header;
  } catch (const HeaderRefused& e) {
    return Status::Error(e.message);
  }
}

}  // namespace

int64_t Tensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> Tensor::AsFloat() const {
  const int64_t n = num_elements();
  std::vector<float> out(static_cast<size_t>(n));
  if (dtype == "F32") {
    if (n > 0) std::memcpy(out.data(), bytes.data(), static_cast<size_t>(n) * 4);
  } else if (dtype == "F64") {
    for (int64_t i = 0; i < n; ++i) {
      double v;
      std::memcpy(&v, bytes.data() + i * 8, 8);
      out[i] = static_cast<float>(v);
    }
  } else {
    const std::vector<int64_t> ints = AsInt64();
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(ints[i]);
  }
  return out;
}

std::vector<int64_t> Tensor::AsInt64() const {
  const int64_t n = num_elements();
  std::vector<int64_t> out(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == "I64") {
      std::memcpy(&out[i], bytes.data() + i * 8, 8);
    } else if (dtype == "I32") {
      int32_t v;
      std::memcpy(&v, bytes.data() + i * 4, 4);
      out[i] = v;
    } else if (dtype == "F32") {
      float v;
      std::memcpy(&v, bytes.data() + i * 4, 4);
      out[i] = static_cast<int64_t>(v);
    }
  }
  return out;
}

namespace {

Expected<File> ParseUnguarded(const std::vector<uint8_t>& bytes, const std::string& name) {
  auto fail = [&](const std::string& what) { return Status::Error(name + ": " + what); };
  if (bytes.size() < 8) return fail("too short for a safetensors file");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8) return fail("header length " + std::to_string(header_len) + " out of range");
  MemoryBudget budget(bytes.size());
  auto parsed = ParseHeader(bytes.data() + 8, bytes.data() + 8 + header_len, budget);
  if (!parsed.ok()) return parsed.status().WithContext(name);
  const nlohmann::json& header = *parsed;
  if (!header.is_object()) return fail("malformed JSON header");
  const uint64_t data_begin = 8 + header_len;
  const uint64_t data_size = bytes.size() - data_begin;
  uint64_t total = 0;  // tensors must not overlap: together they fit in the data
  File file;
  for (auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) return fail("__metadata__ must be an object");
      for (auto& [mk, mv] : value.items())
        if (mv.is_string()) file.metadata[mk] = mv.get<std::string>();
      continue;
    }
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets") ||
        !value["dtype"].is_string() || !value["shape"].is_array() || !value["data_offsets"].is_array() || value["data_offsets"].size() != 2)
      return fail("tensor '" + key + "': malformed entry");
    Tensor t;
    t.dtype = value["dtype"].get<std::string>();
    const int64_t elem = DTypeBytes(t.dtype);
    if (elem == 0) return fail("tensor '" + key + "': unknown dtype " + t.dtype);
    int64_t count = 1;
    for (const auto& d : value["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) return fail("tensor '" + key + "': bad shape");
      t.shape.push_back(d.get<int64_t>());
      if (t.shape.back() > 0 && count > (int64_t{1} << 40) / t.shape.back()) return fail("tensor '" + key + "': shape too large");
      count *= t.shape.back();
    }
    const auto& off = value["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) return fail("tensor '" + key + "': bad data_offsets");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size) return fail("tensor '" + key + "': data_offsets out of range");
    total += end - begin;
    if (total > data_size) return fail("tensor '" + key + "': data_offsets overlap another tensor's");
    if (end - begin != static_cast<uint64_t>(count * elem))
      return fail("tensor '" + key + "': " + std::to_string(end - begin) + " bytes for " + std::to_string(count) + " " + t.dtype + " values");
    t.bytes.assign(bytes.begin() + static_cast<int64_t>(data_begin + begin), bytes.begin() + static_cast<int64_t>(data_begin + end));
    file.tensors.emplace(key, std::move(t));
  }
  return file;
}

}  // namespace

Expected<File> Parse(const std::vector<uint8_t>& bytes, const std::string& name) {
  return GuardAllocation(name, [&] { return ParseUnguarded(bytes, name); });
}

Expected<File> ReadFile(const std::string& path) {
  PCLS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadBinaryFile(path));
  return Parse(bytes, path);
}

std::vector<uint8_t> Serialize(const File& file) {
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (const auto& [key, t] : file.tensors) {  // std::map: sorted names, deterministic files
    header[key] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  // Metadata may carry any bytes (labels, file names); invalid UTF-8 is written as U+FFFD
  // rather than throwing.
  std::string text = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');
  std::vector<uint8_t> out(8);
  const uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(len >> (8 * i));
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& [key, t] : file.tensors) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  return out;
}

Status WriteFile(const std::string& path, const File& file) {
  const std::vector<uint8_t> bytes = Serialize(file);
  AtomicFile out;
  PCLS_RETURN_IF_ERROR(out.Open(path));
  PCLS_RETURN_IF_ERROR(out.Write(bytes.data(), bytes.size()));
  return out.Commit();
}

Tensor FromFloat(const std::vector<float>& values, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype = "F32";
  t.shape = std::move(shape);
  t.bytes.resize(values.size() * 4);
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());  // no memcpy of null pointers
  return t;
}

}  // namespace personcls::safetensors
