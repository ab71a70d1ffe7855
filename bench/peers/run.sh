#!/usr/bin/env bash
# The side-by-side benchmark of bench/RESULTS.md ("personcls, XNNPACK and ONNX Runtime"):
# every model in ../shared/models, the embedded default model and MobileNetV2-Rep widths
# 0.5 and 1.0 (float32 and int8, made by make_models.sh), each run by personcls, by
# XNNPACK (a subgraph built from the same personcls Graph) and, for float32 models, by ONNX
# Runtime (onnxruntime-node on `personcls export --format onnx`), interleaved in one run.
# Argmax agreement with personcls is checked on the 500 vww01-dev images.
#
#   bench/peers/run.sh [BUILD_DIR]       (ROUNDS, RUNS, THREADS, CHECK=0 to skip the check)
#
# Needs libxnnpack-dev + libpthreadpool-dev (scripts/setup.sh), node and npm; installs
# onnxruntime-node 1.30.0 into $ORT_DIR (default /tmp/personcls-ort), outside the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
B="$build/personcls"
P="$build/bench/personcls_peers"
ort="${ORT_DIR:-/tmp/personcls-ort}"
work="${WORK_DIR:-/tmp/personcls-peers}"
[ -x "$P" ] || { echo "run.sh: $P missing (build with libxnnpack-dev installed: cmake --build $build --target personcls_peers)" >&2; exit 1; }
if [ ! -d "$ort/node_modules/onnxruntime-node" ]; then
  # The plain install downloads a CUDA provider and fails offline; the CPU library ships in the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$ort" onnxruntime-node@1.30.0 >/dev/null
fi
bench/peers/make_models.sh "$build" "$work/models" >/dev/null
specs=(default)
for m in ../shared/models/*.tflite "$work"/models/*.tflite; do
  name=$(basename "$m" .tflite)
  # int8 models have no ONNX export ("float32 graphs only"): XNNPACK is their only peer.
  if "$B" export --model "$m" --format onnx --out "$work/$name.onnx" >/dev/null 2>&1; then
    specs+=("$m=$work/$name.onnx")
  else
    specs+=("$m")
  fi
done
check=()
[ "${CHECK:-1}" = 0 ] || check=(--check ../shared/data/vww01-dev)
"$P" --rounds "${ROUNDS:-15}" --runs "${RUNS:-30}" --threads "${THREADS:-1}" --ort "$ort/node_modules" "${check[@]}" "${specs[@]}"
