#!/usr/bin/env bash
# int8 vs float32 accuracy of a model trained on ../shared/data/vww01-dev (docs/quantization.md).
# Trains the docs/training.md run (first 400 images train, last 100 validate), quantizes
# best.safetensors with the default recipe (first 100 training images, minmax), then evaluates
# the float checkpoint and the int8 file on the validation split and on all 500 images.
# Usage: scripts/quant_accuracy.sh [WORKDIR] (default /tmp/quant_accuracy); PERSONCLS=binary.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/quant_accuracy}"
bin="${PERSONCLS:-build/personcls}"
dev=../shared/data/vww01-dev
scripts/vww_split.sh "$work/split"
if [ ! -f "$work/run/best.safetensors" ]; then
  "$bin" train --arch mbv2-rep-0.35 --data "$work/split/train" --val "$work/split/val" \
    --epochs 40 --batch 128 --augment flip --seed 1 --threads 2 --out "$work/run" > "$work/train.log"
fi
for method in minmax l2 percentile; do
  "$bin" quantize --model "$work/run/best.safetensors" --calib "$work/split/train" --method "$method" --out "$work/best_int8_$method.tflite"
done
acc() { "$bin" eval --model "$1" --data "$2" --json | python3 -c 'import json,sys; print("%.2f" % (100 * json.load(sys.stdin)["accuracy"]))'; }
printf '%-28s %10s %10s\n' model "val (100)" "dev (500)"
printf '%-28s %10s %10s\n' "float32 checkpoint" "$(acc "$work/run/best.safetensors" "$work/split/val")" "$(acc "$work/run/best.safetensors" "$dev")"
for method in minmax l2 percentile; do
  m="$work/best_int8_$method.tflite"
  printf '%-28s %10s %10s\n' "int8 $method" "$(acc "$m" "$work/split/val")" "$(acc "$m" "$dev")"
done
