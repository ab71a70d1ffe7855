#!/usr/bin/env bash
# Sets up, builds and runs every test: unit and golden tests (ctest), CLI tests, then each
# libFuzzer target for a short fixed time under ASan+UBSan. Idempotent.
# FUZZ_SECONDS (default 20) sets the time per fuzz target; FUZZ_SECONDS=0 skips fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DPERSONCLS_BUILD_TESTS=ON -DPERSONCLS_BUILD_BENCH=ON
(cd build && ctest --output-on-failure -j"$(nproc)")
scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
