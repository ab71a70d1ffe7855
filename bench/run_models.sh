#!/usr/bin/env bash
# Latency of every model in ../shared/models with build/personcls bench: batch 1, 1 and 2
# threads, fast and reference kernels. Prints a Markdown table for bench/RESULTS.md.
# Usage: bench/run_models.sh [RUNS]   (default 200 timed runs after 20 warm-up runs)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"
bin=build/personcls
[ -x "$bin" ] || { echo "build first: scripts/setup.sh" >&2; exit 1; }
echo "| model | type | MACs | kernels | threads | min ms | median ms | max ms |"
echo "|---|---|---|---|---|---|---|---|"
for m in ../shared/models/*.tflite; do
  name=$(basename "$m")
  info=$("$bin" info --json --model "$m")
  type=$(printf '%s\n' "$info" | sed -n 's/.*"type": "\(.*\)".*/\1/p' | head -n1)
  for kernels in fast ref; do
    for threads in 1 2; do
      if [ "$kernels" = ref ] && [ "$threads" = 2 ]; then continue; fi  # reference kernels are single-threaded
      r=$([ "$kernels" = ref ] && echo 20 || echo "$runs")
      "$bin" bench --json --model "$m" --threads "$threads" --kernels "$kernels" --runs "$r" --warmup 20 |
        tr -d ' ,' | awk -F: -v n="$name" -v t="$type" -v k="$kernels" -v th="$threads" '
          /"macs"/ {macs=$2} /"min_ms"/ {mn=$2} /"median_ms"/ {md=$2} /"max_ms"/ {mx=$2}
          END {printf "| %s | %s | %.2f M | %s | %s | %.3f | %.3f | %.3f |\n", n, t, macs/1e6, k, th, mn, md, mx}'
    done
  done
done
