#!/usr/bin/env bash
# Rebuilds the embedded default model from ../shared with personcls alone:
#   1. hold out pool2's COCO validation photos and pick the calibration photos
#      (scripts/default_model/pool_split.sh);
#   2. distill the student from the MLPerf Tiny and TinyMaix float VWW models on the pool photos
#      (scripts/default_model/recipe.sh; no vww01-dev image is used);
#   3. quantize it to int8 (min/max calibration on the 100 calibration photos) and export it as
#      C source into src/default_model/default_model.{h,cc};
#   4. score it on all 500 vww01-dev images, which it never saw (the full table, with the
#      teachers and per fold, is scripts/default_model/cv.sh; docs/default-model.md).
# This is the run cv.sh measures: same recipe, same seed, same weights. Rebuild personcls
# afterwards to embed the new model. Deterministic for a given seed and personcls version (any
# thread count).
# Usage: scripts/make_default_model.sh [WORK_DIR]   (default /tmp/personcls_default_model)
# Environment: PERSONCLS (default build/personcls), SHARED (default ../shared), THREADS
#   (default 1), DISTILL_* (recipe.sh), OUT_STEM (default src/default_model/default_model:
#   where the C source goes), RESUME=1 continues an interrupted run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${PERSONCLS:-$root/build/personcls}"
shared="$(cd "${SHARED:-$root/../shared}" && pwd)"
work="${1:-/tmp/personcls_default_model}"
stem="${OUT_STEM:-$root/src/default_model/default_model}"
[ -x "$bin" ] || { echo "make_default_model.sh: $bin not found (build personcls first: scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$work"
work="$(cd "$work" && pwd)"
split="$work/split"
[ -f "$split/pool2_train.csv" ] || "$root/scripts/default_model/pool_split.sh" "$split"
# shellcheck source=default_model/recipe.sh
source "$root/scripts/default_model/recipe.sh"
resume=(--force)
[ "${RESUME:-0}" = 1 ] && resume=(--resume)
"$bin" distill "${DISTILL_TEACHERS[@]/#/--teacher=}" "${DISTILL_POOLS[@]/#/--unlabeled=}" "${DISTILL_FLAGS[@]}" \
  --val "$split/coco_val" --out "$work/run" --threads "${THREADS:-1}" "${resume[@]}" | tee -a "$work/distill.log"
# A stable name for the checkpoint: the exported description quotes it.
cp "$work/run/last.safetensors" "$work/default_model.safetensors"
(cd "$work" && "$bin" export --format c --model default_model.safetensors --calib "$split/calib" --images 100 \
  --symbol pcls_default_model --out "$stem.cc")
"$bin" eval --model "$work/default_model.safetensors" --data "$shared/data/vww01-dev" | sed -n 's/^accuracy/float32 on vww01-dev (never trained on): &/p'
echo "make_default_model.sh: wrote $stem.{h,cc}; rebuild personcls to embed it" >&2
