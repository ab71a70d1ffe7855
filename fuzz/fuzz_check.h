// Checks shared by the fuzz targets: an error must be one line that names the input.
#pragma once

#include <string>

#include "personcls/status.h"

// Traps unless `s` failed with a message starting "NAME:" ("NAME: ..." or "NAME:LINE: ...")
// and holding no line break.
inline void CheckOneLineError(const personcls::Status& s, const std::string& name) {
  if (s.ok()) __builtin_trap();
  const std::string& m = s.message();
  if (m.rfind(name + ":", 0) != 0 || m.find('\n') != std::string::npos) __builtin_trap();
}
