// A test hook for crash-safety tests: kill the process at a chosen point, as a power cut
// or `kill -9` would.
//
// With the environment variable PERSONCLS_KILL_AT_COMMIT=N (N >= 1), the N-th call of
// KillPointBeforeCommit() in the process raises SIGKILL. AtomicFile::Commit calls it after
// the data went to the temporary file and before it is flushed and renamed, so the process
// dies in the middle of writing a checkpoint (the temporary holds part of it) and the
// target must still be the previous complete file. Without the variable it does nothing
// (the variable is read once). tests/tools/fault_injection_test.cc drives `train` and
// `distill` through every such point; docs/TESTING.md describes it.
#pragma once

namespace personcls {

void KillPointBeforeCommit();

}  // namespace personcls
