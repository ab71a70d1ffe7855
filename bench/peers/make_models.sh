#!/usr/bin/env bash
# Makes the MobileNetV2-Rep models of the side-by-side benchmark (bench/peers/README.md)
# that ../shared/models does not have: widths 0.5 and 1.0, float32 and int8. Latency does
# not depend on how well a model is trained, so each is a 1-epoch run on vww01-dev (seed 1),
# exported to float32 TFLite and quantized with 100 vww01-dev calibration images. Written
# to OUT (default /tmp/personcls-peers/models), outside the repository; reruns reuse them.
#
#   bench/peers/make_models.sh [BUILD_DIR] [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
B="${1:-build}/personcls"
out="${2:-/tmp/personcls-peers/models}"
dev=../shared/data/vww01-dev
mkdir -p "$out"
for width in 0.5 1.0; do
  name="mbv2_rep_${width}"
  run="$out/run_$width"
  [ -f "$run/last.safetensors" ] ||
    "$B" train --arch "mbv2-rep-$width" --data "$dev" --val "$dev" --out "$run" --epochs 1 --batch 32 --seed 1 >/dev/null
  [ -f "$out/${name}_float.tflite" ] ||
    "$B" export --model "$run/last.safetensors" --format tflite --out "$out/${name}_float.tflite" >/dev/null
  [ -f "$out/${name}_int8.tflite" ] ||
    "$B" quantize --model "$run/last.safetensors" --calib "$dev" --images 100 --out "$out/${name}_int8.tflite" >/dev/null
done
ls -l "$out"/*.tflite
