// libFuzzer target: arbitrary bytes as DIR/labels.csv (eval, train and distill datasets).
// The number of classes comes from the first byte (1..16). The result is one error line
// naming the file, or entries whose labels are in range and whose paths are absolute: DIR/name
// for a relative name, the name itself for an absolute one (README: "relative to DIR or absolute").
#include <cstddef>
#include <cstdint>

#include "data/dataset.h"
#include "fuzz_check.h"
#include "fuzz_temp_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int classes = 1 + data[0] % 16;
  const std::string& dir = FuzzTempDir();
  WriteFuzzFile(dir + "/labels.csv", data + 1, size - 1);
  auto files = personcls::ReadLabelsCsv(dir, classes);
  if (!files.ok()) {
    CheckOneLineError(files.status(), dir + "/labels.csv");
    return 0;
  }
  if (files->empty()) __builtin_trap();
  for (const personcls::LabelledFile& f : *files) {
    // DIR is absolute, so a relative name joined to it and an absolute name both start with '/'.
    if (f.label < 0 || f.label >= classes || f.path.empty() || f.path[0] != '/') __builtin_trap();
  }
  return 0;
}
