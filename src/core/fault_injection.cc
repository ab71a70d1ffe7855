#include "core/fault_injection.h"

#include <csignal>
#include <cstdlib>

namespace personcls {

void KillPointBeforeCommit() {
  static const long kill_at = [] {
    const char* v = std::getenv("PERSONCLS_KILL_AT_COMMIT");
    return v ? std::strtol(v, nullptr, 10) : 0L;
  }();
  static long calls = 0;
  if (kill_at > 0 && ++calls == kill_at) std::raise(SIGKILL);
}

}  // namespace personcls
