// Reading a whole file into memory, for the readers of untrusted files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "personcls/status.h"

namespace personcls {

// The file's bytes. Errors are one line naming the file: "m.pth: cannot open: No such file
// or directory", "...: is a directory", "...: read error", or out of memory.
Expected<std::vector<uint8_t>> ReadBinaryFile(const std::string& path);

}  // namespace personcls
