#!/usr/bin/env bash
# K-fold cross-validation of the distillation recipe on ../shared/data/vww01-dev: for each
# fold, a student is distilled without the held-out fold (which it never sees, not even as
# an unlabeled image) and scored on it with its LAST checkpoint (the held-out fold is given
# as --val only to log the curve; best.safetensors is not used). The teachers are scored on
# the same fold through the same runtime (their scores equal the TFLite goldens;
# tests/tools/cli_test.cc checks that on all 500 images).
#
# Usage: scripts/default_model/cv.sh OUT [FOLDS [FOLD...]] -- [extra distill flags]
#   OUT       work directory (folds, runs, cv.csv)
#   FOLDS     number of folds (default 5); FOLD... which folds to run (default all)
# Environment: PERSONCLS (default build/personcls), SHARED (default ../shared),
#   DISTILL_EPOCHS, DISTILL_ARCH, DISTILL_SEED, DISTILL_POOL_CAP, DISTILL_INIT,
#   DISTILL_FEATURE_WEIGHT (see recipe.sh).
# Prints and appends one CSV row per fold to OUT/cv.csv (accuracies in %).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${PERSONCLS:-$root/build/personcls}"
shared="$(cd "${SHARED:-$root/../shared}" && pwd)"
out="${1:?usage: cv.sh OUT [FOLDS [FOLD...]] [-- distill flags]}"
shift
folds=5
if [ $# -gt 0 ] && [ "$1" != "--" ]; then folds="$1"; shift; fi
which=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do which+=("$1"); shift; done
[ $# -gt 0 ] && shift  # the --
extra=("$@")
[ ${#which[@]} -gt 0 ] || which=($(seq 0 $((folds - 1))))
# shellcheck source=recipe.sh
source "$root/scripts/default_model/recipe.sh"
"$root/scripts/default_model/folds.sh" "$folds" "$out/folds" "$shared/data/vww01-dev"
models="$shared/models"
teachers=(mlperf_vww_96_float mlperf_vww_96_int8 tinymaix_vww96_f tinymaix_vww96_q)
acc() {  # acc MODEL DIR: top-1 in % from personcls eval --json
  "$bin" eval --model "$1" --data "$2" --json | python3 -c 'import json,sys; print("%.1f" % (100 * json.load(sys.stdin)["accuracy"]))'
}
[ -f "$out/cv.csv" ] || echo "fold,student_float,student_int8,${teachers[*]// /,},ensemble,seconds,recipe" | tr ' ' ',' > "$out/cv.csv"
for f in "${which[@]}"; do
  run="$out/run_fold$f"
  fold="$out/folds/fold$f"
  start=$(date +%s)
  "$bin" distill "${DISTILL_TEACHERS[@]/#/--teacher=}" --data "$fold/train" \
    "${DISTILL_UNLABELED[@]/#/--unlabeled=}" "${DISTILL_FLAGS[@]}" "${extra[@]}" --val "$fold/val" --out "$run" > "$run.log" 2>&1 ||
    { echo "cv.sh: fold $f: distill failed, see $run.log" >&2; tail -3 "$run.log" >&2; exit 1; }
  seconds=$(($(date +%s) - start))
  "$bin" quantize --model "$run/last.safetensors" --calib "$fold/train" --images 100 --out "$run/int8.tflite" > /dev/null
  row="$f,$(acc "$run/last.safetensors" "$fold/val"),$(acc "$run/int8.tflite" "$fold/val")"
  for t in "${teachers[@]}"; do row="$row,$(acc "$models/$t.tflite" "$fold/val")"; done
  ens=$(sed -n 's/^teacher ensemble.*val_top1 \([0-9.]*\) %.*/\1/p' "$run.log")
  echo "$row,$ens,$seconds,\"${DISTILL_FLAGS[*]} ${extra[*]}\"" | tee -a "$out/cv.csv"
done
