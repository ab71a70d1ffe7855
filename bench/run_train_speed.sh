#!/usr/bin/env bash
# Training speed of the C++ train form next to the PyTorch twin, measured in one run so that
# the ratio is taken under the same machine conditions: batch 128, 96x96x3, 2 threads (or
# $THREADS), widths 0.35 and 1.0, one step = forward (train-mode BN) + cross-entropy +
# backward + SGD step (momentum 0.9, weight decay 1e-4) in both.
# Usage: bench/run_train_speed.sh [BUILD_DIR]   (default build; needs personcls_train_bench)
# Environment: THREADS (2), MIN_TIME (C++ seconds per width, 10), TORCH_ITERS (timed PyTorch
# steps per width, 10). Variables such as OMP_WAIT_POLICY reach both programs (both use
# libgomp).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
threads="${THREADS:-2}"
bin="$build/bench/personcls_train_bench"
[ -x "$bin" ] || { echo "$bin: not built (cmake --build $build --target personcls_train_bench)" >&2; exit 1; }
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include bench || echo ' (+ local changes)'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A cpp
for arch in 0 1; do
  line=$("$bin" --benchmark_filter="BM_TrainStep/arch:$arch/threads:$threads/" --benchmark_min_time="${MIN_TIME:-10}" \
           --benchmark_format=csv 2>/dev/null | grep '^"BM_TrainStep')
  # csv: name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,...
  cpp[$arch]=$(printf '%s\n' "$line" | awk -F, '{printf "%.1f", $7}')
done
torch_out=$(/usr/bin/python3 bench/torch_train_speed.py --threads "$threads" --widths 0.35,1.0 --iters "${TORCH_ITERS:-10}")
printf '%s\n' "$torch_out"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# Both sides: mean img/s over the timed steps (Google Benchmark's items_per_second is total
# images / total time); PyTorch's median and best are shown too.
echo "| arch | threads | C++ img/s | PyTorch img/s (mean) | PyTorch median | PyTorch best | C++ / PyTorch |"
echo "|---|---:|---:|---:|---:|---:|---:|"
i=0
for name in mbv2-rep-0.35 mbv2-rep-1.0; do
  read -r best med mean < <(printf '%s\n' "$torch_out" | awk -v n="$name" '$1 == n {print $3, $4, $5}')
  awk -v n="$name" -v t="$threads" -v c="${cpp[$i]}" -v a="$mean" -v m="$med" -v b="$best" \
    'BEGIN {printf "| %s | %s | %s | %s | %s | %s | %.2f |\n", n, t, c, a, m, b, c / a}'
  i=$((i + 1))
done
