// libFuzzer target: arbitrary bytes as a PyTorch .pth (zip archive + pickle, the reader of
// `convert` and of .pth models). The result is one error line naming the input, or tensors
// whose bytes hold exactly dtype x shape (then converted to floats as checkpoints are).
// Memory stays bounded by the file (MemoryBudget); libFuzzer's -rss_limit_mb and
// -malloc_limit_mb (2 GB) catch any allocation a declared size could force.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "formats/pth/pth_reader.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  auto file = personcls::pth::ParseStateDict(bytes, "fuzz.pth");
  if (!file.ok()) {
    CheckOneLineError(file.status(), "fuzz.pth");
    return 0;
  }
  for (const auto& [name, t] : file->tensors) {
    const int64_t n = t.num_elements();
    if (n < 0) __builtin_trap();
    if (t.dtype == "F32" || t.dtype == "F64" || t.dtype == "I64" || t.dtype == "I32") {
      const size_t elem = t.dtype == "F64" || t.dtype == "I64" ? 8 : 4;
      if (t.bytes.size() != static_cast<size_t>(n) * elem) __builtin_trap();
      if (t.AsFloat().size() != static_cast<size_t>(n)) __builtin_trap();
    }
  }
  return 0;
}
