// Reading ../shared/golden (see its README): the golden CSV rows and the exact input
// tensors each model gets. Shared by the host golden test and the QEMU driver
// (tests/mcu/mcu_check.cc); no gtest dependency.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace personcls::testing {

struct GoldenRow {
  std::string file;            // input file name (in the model's input folder)
  std::vector<double> values;  // output 0: raw int8 values, or float32 values
};
std::vector<GoldenRow> ReadGolden(const std::string& path);

enum class InputKind {
  kRgbInt8,   // q = p - 128
  kRgbFloat,  // x = p / 255
  kGrayInt8,  // gray = (299 R + 587 G + 114 B + 500) / 1000, q = gray - 128
  kRawInt8,   // the file is the int8 tensor
};
// Writes the input tensor for the file `bytes` into `data` (sized for the model's input).
void FillInput(InputKind kind, const std::vector<uint8_t>& bytes, void* data);

}  // namespace personcls::testing
