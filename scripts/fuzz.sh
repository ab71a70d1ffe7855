#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan into build-fuzz/ and runs each for
# SECONDS (first argument, default 20), one after the other. Crashes leave their input in
# build-fuzz/crashes/. Each target's line reports its executions and peak RSS (libFuzzer's
# final stats); -rss_limit_mb=2048 (and the same -malloc_limit_mb) make any larger use a
# failure.
#   FUZZ_RUNS=N      stop each target after N executions instead (SECONDS still caps it):
#                    the long run of docs/TESTING.md is FUZZ_RUNS=1000000
#   FUZZ_TARGETS="fuzz_a fuzz_b"   run only these targets
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
[ "$seconds" -gt 0 ] || { echo "fuzz: skipped"; exit 0; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERSONCLS_FUZZ=ON \
  -DPERSONCLS_BUILD_TESTS=OFF -DPERSONCLS_BUILD_BENCH=OFF >/dev/null
targets="${FUZZ_TARGETS:-$(cd fuzz && ls fuzz_*.cc | sed 's/\.cc$//')}"
cmake --build build-fuzz -j"$(nproc)" --target $targets
mkdir -p build-fuzz/crashes
runs=()
[ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
for t in $targets; do
  corpus="build-fuzz/corpus/$t"
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
  # Real models make good seeds for the model loader; they are read from ../shared, never copied.
  if [ "$t" = fuzz_tflite_model ] && [ -f ../shared/models/sscma_mbv2_0.35_rep_cifar10_int8.tflite ]; then
    mkdir -p build-fuzz/seeds-shared && cp -f ../shared/models/sscma_mbv2_0.35_rep_cifar10_int8.tflite build-fuzz/seeds-shared/
    seeds+=("build-fuzz/seeds-shared")
  fi
  echo "fuzz: $t for ${seconds}s${FUZZ_RUNS:+ or $FUZZ_RUNS runs}"
  build-fuzz/fuzz/"$t" -max_total_time="$seconds" "${runs[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/crashes/"$t"- "$corpus" "${seeds[@]}" 2>build-fuzz/"$t".log \
    || { tail -40 build-fuzz/"$t".log; echo "fuzz: $t FAILED"; exit 1; }
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/"$t".log | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' build-fuzz/"$t".log | tail -1)
  echo "fuzz: $t: ${execs:-?} executions, peak RSS ${rss:-?} MB, no crash"
done
echo "fuzz: all targets ran without a crash"
