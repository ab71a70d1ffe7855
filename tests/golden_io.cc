#include "golden_io.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace personcls::testing {

std::vector<GoldenRow> ReadGolden(const std::string& path) {
  std::vector<GoldenRow> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t comma = line.find(',');
    if (comma == std::string::npos) continue;
    GoldenRow row{line.substr(0, comma), {}};
    std::istringstream values(line.substr(comma + 1));
    double v;
    while (values >> v) row.values.push_back(v);
    rows.push_back(std::move(row));
  }
  return rows;
}

void FillInput(InputKind kind, const std::vector<uint8_t>& bytes, void* data) {
  switch (kind) {
    case InputKind::kRgbInt8:
      for (size_t i = 0; i < bytes.size(); ++i) static_cast<int8_t*>(data)[i] = static_cast<int8_t>(bytes[i] - 128);
      break;
    case InputKind::kRgbFloat:
      for (size_t i = 0; i < bytes.size(); ++i) static_cast<float*>(data)[i] = static_cast<float>(bytes[i]) / 255.0f;
      break;
    case InputKind::kGrayInt8:
      for (size_t i = 0; i < bytes.size() / 3; ++i) {
        const int gray = (299 * bytes[3 * i] + 587 * bytes[3 * i + 1] + 114 * bytes[3 * i + 2] + 500) / 1000;
        static_cast<int8_t*>(data)[i] = static_cast<int8_t>(gray - 128);
      }
      break;
    case InputKind::kRawInt8:
      std::copy(bytes.begin(), bytes.end(), static_cast<uint8_t*>(data));
      break;
  }
}

}  // namespace personcls::testing
