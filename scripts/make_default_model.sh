#!/usr/bin/env bash
# Rebuilds the embedded default model from ../shared with personcls alone:
#   1. distill a MobileNetV2-0.35-Rep student from the MLPerf Tiny and TinyMaix float VWW
#      models on all 500 vww01-dev images plus the pool photos (scripts/default_model/recipe.sh);
#   2. quantize it to int8 (min/max calibration on a class-balanced sample of 100 vww01-dev
#      images, seed 0) and export it as C source into src/default_model/default_model.{h,cc};
#      the student's checkpoint carries the fingerprint of its labelled training images
#      (vww01-dev), which the export keeps, so `eval` warns on vww01-dev;
#   3. print its accuracy on vww01-dev (training data: not an estimate; the estimate is
#      scripts/default_model/cv.sh, see docs/default-model.md).
# Rebuild personcls afterwards to embed the new model. Deterministic for a given seed and
# personcls version (any thread count).
# Usage: scripts/make_default_model.sh [WORK_DIR]   (default /tmp/personcls_default_model)
# Environment: PERSONCLS (default build/personcls), SHARED (default ../shared),
#   DISTILL_EPOCHS, DISTILL_ARCH, DISTILL_SEED (recipe.sh defaults), OUT_STEM (default
#   src/default_model/default_model: where the C source goes).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${PERSONCLS:-$root/build/personcls}"
shared="$(cd "${SHARED:-$root/../shared}" && pwd)"
work="${1:-/tmp/personcls_default_model}"
stem="${OUT_STEM:-$root/src/default_model/default_model}"
[ -x "$bin" ] || { echo "make_default_model.sh: $bin not found (build personcls first: scripts/setup.sh)" >&2; exit 1; }
# shellcheck source=default_model/recipe.sh
source "$root/scripts/default_model/recipe.sh"
mkdir -p "$work"
"$bin" distill "${DISTILL_TEACHERS[@]/#/--teacher=}" --data "$shared/data/vww01-dev" \
  "${DISTILL_UNLABELED[@]/#/--unlabeled=}" "${DISTILL_FLAGS[@]}" --force --out "$work/run" | tee "$work/distill.log"
# A stable name for the checkpoint: the exported description quotes it.
cp "$work/run/last.safetensors" "$work/default_model.safetensors"
(cd "$work" && "$bin" export --format c --model default_model.safetensors --calib "$shared/data/vww01-dev" --images 100 \
  --symbol pcls_default_model --out "$stem.cc")
"$bin" eval --model "$work/default_model.safetensors" --data "$shared/data/vww01-dev" | sed -n 's/^accuracy/float32 on vww01-dev (trained on it): &/p'
echo "make_default_model.sh: wrote $stem.{h,cc}; rebuild personcls to embed it" >&2
