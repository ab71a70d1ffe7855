#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan into build-fuzz/ and runs each for
# SECONDS (first argument, default 20). Crashes leave their input in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
[ "$seconds" -gt 0 ] || { echo "fuzz: skipped"; exit 0; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERSONCLS_FUZZ=ON \
  -DPERSONCLS_BUILD_TESTS=OFF -DPERSONCLS_BUILD_BENCH=OFF >/dev/null
targets=$(cd fuzz && ls fuzz_*.cc | sed 's/\.cc$//')
cmake --build build-fuzz -j"$(nproc)" --target $targets
mkdir -p build-fuzz/crashes
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
  echo "fuzz: $t for ${seconds}s"
  build-fuzz/fuzz/"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix=build-fuzz/crashes/"$t"- "$corpus" "${seeds[@]}" 2>build-fuzz/"$t".log \
    || { tail -40 build-fuzz/"$t".log; echo "fuzz: $t FAILED"; exit 1; }
  grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" build-fuzz/"$t".log | tail -1 || true
done
echo "fuzz: all targets ran ${seconds}s without a crash"
