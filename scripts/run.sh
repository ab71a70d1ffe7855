#!/usr/bin/env bash
# The main job: set up and build (idempotent), then run the personcls CLI with the given
# arguments, e.g.  scripts/run.sh classify --model M.tflite photo.jpg
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DPERSONCLS_BUILD_TESTS=OFF -DPERSONCLS_BUILD_BENCH=OFF >&2
exec build/personcls "$@"
