#!/usr/bin/env bash
# Measures the distillation recipe (recipe.sh) the way issue 14 asks, without ever training on
# the images it is scored on:
#   1. pool_split.sh holds out 400 labelled COCO photos of pool2 (OUT/split/coco_val) for
#      choosing recipes and widths, and 100 training photos for int8 calibration;
#   2. a student is distilled from the pools alone (no vww01-dev image) into OUT/run;
#   3. it is quantized to int8 (calibrated on OUT/split/calib), and the student (float32 and
#      int8), the four teachers and the teachers' ensemble (mean of the two float teachers'
#      probabilities) are scored with `personcls eval` on coco_val, on each of the 5 stratified
#      folds of vww01-dev (folds.sh: the same folds as earlier cross-validations) and on all 500
#      vww01-dev images. The student never saw any vww01-dev image, so every fold is held out.
# Usage: scripts/default_model/cv.sh OUT [-- extra distill flags]
# Environment: PERSONCLS (default build/personcls), SHARED (default ../shared), THREADS (distill
#   --threads, default 1), DISTILL_EPOCHS, DISTILL_ARCH, DISTILL_SEED, DISTILL_SOURCE_CAP,
#   DISTILL_INIT, DISTILL_FEATURE_WEIGHT (recipe.sh). An interrupted run continues with
#   RESUME=1 (bit for bit); EVAL_ONLY=1 only quantizes and scores an existing OUT/run.
# Writes OUT/cv.csv (accuracies in %; the row "folds" is the mean of the 5 folds) and prints it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${PERSONCLS:-$root/build/personcls}"
shared="$(cd "${SHARED:-$root/../shared}" && pwd)"
out="${1:?usage: cv.sh OUT [-- distill flags]}"
shift
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
extra=("$@")
mkdir -p "$out"
out="$(cd "$out" && pwd)"
split="$out/split"
[ -f "$split/pool2_train.csv" ] || "$root/scripts/default_model/pool_split.sh" "$split"
"$root/scripts/default_model/folds.sh" 5 "$out/folds" "$shared/data/vww01-dev"
# shellcheck source=recipe.sh
source "$root/scripts/default_model/recipe.sh"
run="$out/run"
resume=(--force)
[ "${RESUME:-0}" = 1 ] && resume=(--resume)
start=$(date +%s)
[ "${EVAL_ONLY:-0}" = 1 ] || "$bin" distill "${DISTILL_TEACHERS[@]/#/--teacher=}" "${DISTILL_POOLS[@]/#/--unlabeled=}" "${DISTILL_FLAGS[@]}" "${extra[@]}" \
  --val "$split/coco_val" --out "$run" --threads "${THREADS:-1}" "${resume[@]}" >> "$run.log" 2>&1 ||
  { echo "cv.sh: distill failed, see $run.log" >&2; tail -3 "$run.log" >&2; exit 1; }
[ "${EVAL_ONLY:-0}" = 1 ] || echo "cv.sh: distilled in $(($(date +%s) - start)) s" >> "$run.log"
"$bin" quantize --model "$run/last.safetensors" --calib "$split/calib" --images 100 --out "$run/int8.tflite" > /dev/null
sets=(coco_val:"$split/coco_val" dev:"$shared/data/vww01-dev")
for f in 0 1 2 3 4; do sets+=(fold$f:"$out/folds/fold$f/val"); done
models=(student_float:"$run/last.safetensors" student_int8:"$run/int8.tflite")
for t in mlperf_vww_96_float mlperf_vww_96_int8 tinymaix_vww96_f tinymaix_vww96_q; do models+=("$t:$shared/models/$t.tflite"); done
mkdir -p "$out/eval"
for s in "${sets[@]}"; do
  for m in "${models[@]}"; do "$bin" eval --model "${m#*:}" --data "${s#*:}" --json > "$out/eval/${s%%:*}.${m%%:*}.json"; done
done
python3 "$root/scripts/default_model/cv_table.py" "$out/eval" > "$out/cv.csv"
cat "$out/cv.csv"
