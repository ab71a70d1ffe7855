#!/usr/bin/env bash
# The whole ctest suite under AddressSanitizer (with LeakSanitizer) and UndefinedBehavior-
# Sanitizer: builds everything with -DPERSONCLS_SANITIZE=ON into its own folder,
# build-asan/ (the CLI that the CLI tests run included), then runs ctest there. A sanitizer
# report aborts the test it happens in (-fno-sanitize-recover=undefined, halt_on_error), so
# the script exits non-zero on any finding. Slow: about 3x the normal suite, plus a full
# build; run it before a release or after touching memory-handling code, not in CI.
#
#   scripts/sanitize.sh                 # everything
#   scripts/sanitize.sh -R Pth          # extra arguments go to ctest
#   JOBS=1 nice -n 19 scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-$(nproc)}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERSONCLS_SANITIZE=ON -DPERSONCLS_BUILD_TESTS=ON \
  -DPERSONCLS_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-asan
ctest --output-on-failure -j"$jobs" "$@"
echo "sanitize: the ctest suite ran clean under ASan+UBSan"
