// libFuzzer target: arbitrary bytes as a .safetensors file (checkpoints, goldens). The
// result is one error line naming the input, or tensors whose data lies in the file, does
// not overlap and holds exactly dtype x shape; what parsed serializes and parses back to
// the same tensors.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "formats/safetensors/safetensors.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  auto file = personcls::safetensors::Parse(bytes, "fuzz.safetensors");
  if (!file.ok()) {
    CheckOneLineError(file.status(), "fuzz.safetensors");
    return 0;
  }
  size_t total = 0;
  for (const auto& [name, t] : file->tensors) {
    total += t.bytes.size();
    if (t.dtype == "F32" && t.AsFloat().size() != static_cast<size_t>(t.num_elements())) __builtin_trap();
    if (t.dtype == "I64" && t.AsInt64().size() != static_cast<size_t>(t.num_elements())) __builtin_trap();
  }
  if (total > size) __builtin_trap();
  auto again = personcls::safetensors::Parse(personcls::safetensors::Serialize(*file), "again");
  if (!again.ok() || again->tensors.size() != file->tensors.size()) __builtin_trap();
  for (const auto& [name, t] : file->tensors) {
    auto it = again->tensors.find(name);
    if (it == again->tensors.end() || it->second.bytes != t.bytes || it->second.shape != t.shape || it->second.dtype != t.dtype) __builtin_trap();
  }
  return 0;
}
