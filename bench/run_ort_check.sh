#!/usr/bin/env bash
# Checks personcls's ONNX exports in ONNX Runtime (onnxruntime-node 1.30.0, CPU): exports
# the MLPerf and TinyMaix float models and a personcls checkpoint to .onnx, runs ORT on the
# 500 vww01-dev images (bench/ort_check.js) and compares with personcls's outputs on the
# *source* model (TFLite / safetensors), 1e-5 absolute. Run by hand; needs npm and node.
#
#   bench/run_ort_check.sh [BUILD_DIR]      (default build/; ORT goes to $ORT_DIR)
#
# The checkpoint is a short seeded training run (2 epochs on vww01-dev), made once.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}/personcls"
ort="${ORT_DIR:-/tmp/personcls-ort}"
work="${WORK_DIR:-/tmp/personcls-ort-check}"
dev=../shared/data/vww01-dev
if [ ! -d "$ort/node_modules/onnxruntime-node" ]; then
  # The plain install downloads a CUDA provider and fails offline; the CPU library ships in the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$ort" onnxruntime-node@1.30.0 >/dev/null
fi
mkdir -p "$work"
[ -f "$work/run/last.safetensors" ] ||
  "$B" train --arch mbv2-rep-0.35 --data "$dev" --val "$dev" --out "$work/run" --epochs 2 --batch 32 --seed 1 >/dev/null
check() {  # NAME MODEL
  "$B" export --model "$2" --format onnx --out "$work/$1.onnx" >/dev/null
  "$B" classify --json --model "$2" "$dev" >"$work/$1.json"
  NODE_PATH="$ort/node_modules" node bench/ort_check.js "$work/$1.onnx" "$work/$1.json"
}
check mlperf_vww_96_float ../shared/models/mlperf_vww_96_float.tflite
check tinymaix_vww96_f ../shared/models/tinymaix_vww96_f.tflite
check checkpoint "$work/run/last.safetensors"
