#!/usr/bin/env bash
# Checks personcls's TFLite exports in TensorFlow Lite itself (@tensorflow/tfjs-tflite
# 0.0.1-alpha.10: TFLite's WebAssembly build, with its XNNPACK delegate) on the 500
# vww01-dev images (bench/tflite_check.js). Run by hand; needs npm and node.
#
#   bench/run_tflite_check.sh [BUILD_DIR]      (default build/; the package goes to $TFL_DIR)
#
# - Every exported file must load in TFLite. float32 outputs must agree with personcls's
#   within 1e-5; int8 outputs within 16 steps: XNNPACK's int8 kernels round differently
#   from the reference kernels that personcls matches bit for bit (on MLPerf's own int8
#   file, whose reference outputs are the goldens, they differ by up to 11 steps).
# - A re-exported third-party int8 model must give TFLite exactly the outputs of the
#   original file (tolerance 0): the writer keeps every weight and quantization parameter.
# The checkpoint is a short seeded training run (2 epochs on vww01-dev), made once.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}/personcls"
tfl="${TFL_DIR:-/tmp/personcls-tflite}"
work="${WORK_DIR:-/tmp/personcls-tflite-check}"
dev=../shared/data/vww01-dev
models=../shared/models
[ -d "$tfl/node_modules/@tensorflow/tfjs-tflite" ] ||
  npm install --prefix "$tfl" --no-audit --no-fund @tensorflow/tfjs-tflite@0.0.1-alpha.10 >/dev/null
mkdir -p "$work"
[ -f "$work/run/last.safetensors" ] ||
  "$B" train --arch mbv2-rep-0.35 --data "$dev" --val "$dev" --out "$work/run" --epochs 2 --batch 32 --seed 1 >/dev/null
status=0
check() {  # NAME TOLERANCE: TFLite vs personcls on $work/NAME.tflite
  "$B" classify --json --model "$work/$1.tflite" "$dev" >"$work/$1.json"
  NODE_PATH="$tfl/node_modules" node bench/tflite_check.js "$work/$1.tflite" "$work/$1.json" --tol "$2" --dump "$work/$1.tflite.json" || status=1
}
"$B" export --format tflite --out "$work/default_model.tflite" >/dev/null  # the embedded default model
check default_model 16
"$B" export --format tflite --model "$work/run/last.safetensors" --out "$work/checkpoint_f32.tflite" >/dev/null
check checkpoint_f32 1e-5
"$B" export --format tflite-int8 --model "$work/run/last.safetensors" --calib "$dev" --images 100 --out "$work/checkpoint_int8.tflite" >/dev/null
check checkpoint_int8 16
"$B" export --format tflite --model "$models/mlperf_vww_96_float.tflite" --out "$work/mlperf_f32_reexport.tflite" >/dev/null
check mlperf_f32_reexport 1e-5
"$B" export --format tflite-int8 --model "$models/mlperf_vww_96_float.tflite" --calib "$dev" --images 100 --out "$work/mlperf_f32_quantized.tflite" >/dev/null
check mlperf_f32_quantized 16
cp "$models/mlperf_vww_96_int8.tflite" "$work/mlperf_int8.tflite"
check mlperf_int8 16
"$B" export --format tflite --model "$models/mlperf_vww_96_int8.tflite" --out "$work/mlperf_int8_reexport.tflite" >/dev/null
echo "re-exported MLPerf int8 against the original, both in TFLite:"
NODE_PATH="$tfl/node_modules" node bench/tflite_check.js "$work/mlperf_int8_reexport.tflite" "$work/mlperf_int8.tflite.json" --tol 0 || status=1
exit $status
