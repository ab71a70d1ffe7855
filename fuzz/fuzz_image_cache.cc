// libFuzzer target: arbitrary bytes as an image cache (SPLIT.pcache + SPLIT.index.csv, what
// `vww build` writes and training reads). The first two bytes give the length of the
// .pcache part, the rest is the index. The result is one error line naming one of the two
// files, or a cache whose records, labels and pixels agree with its header.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "data/image_cache.h"
#include "fuzz_temp_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t split = std::min<size_t>(size - 2, size_t{data[0]} | size_t{data[1]} << 8);
  const std::string prefix = FuzzTempDir() + "/split";
  WriteFuzzFile(prefix + ".pcache", data + 2, split);
  WriteFuzzFile(prefix + ".index.csv", data + 2 + split, size - 2 - split);
  auto cache = personcls::ReadImageCache(prefix);
  if (!cache.ok()) {
    const std::string m = cache.status().message();
    if ((m.rfind(prefix + ".pcache:", 0) != 0 && m.rfind(prefix + ".index.csv:", 0) != 0) || m.find('\n') != std::string::npos)
      __builtin_trap();
    return 0;
  }
  if (cache->height < 1 || cache->width < 1 || (cache->channels != 1 && cache->channels != 3)) __builtin_trap();
  if (cache->pixels.size() != cache->records.size() * cache->record_bytes()) __builtin_trap();
  for (const personcls::ImageCacheRecord& r : cache->records) {
    if (r.file.empty() || r.file.find_first_of(",\"\r\n") != std::string::npos) __builtin_trap();
  }
  return 0;
}
