#!/usr/bin/env bash
# Holds out a validation set of COCO photos from ../shared/data/pool2 for choosing the recipe
# and the width, so that vww01-dev is only ever used for the final estimate.
#   OUT/coco_val/labels.csv   VAL_PER_CLASS person + VAL_PER_CLASS no-person photos of pool2's
#                             COCO sources (labels from COCO's annotations, VWW rule), as
#                             symbolic links; `personcls eval --data OUT/coco_val` reads it
#   OUT/pool2_train.csv       pool2's index.csv without them (absolute paths), for distill
#                             --unlabeled
#   OUT/calib/labels.csv      the next CALIB_PER_CLASS of each class (training photos, not held
#                             out): the int8 calibration set (quantize/export --calib)
# The choice is deterministic: labelled COCO rows sorted by a hash of their file name, the first
# VAL_PER_CLASS of each class held out.
# Usage: scripts/default_model/pool_split.sh OUT   (env: SHARED, VAL_PER_CLASS default 200,
#        CALIB_PER_CLASS default 50)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shared="$(cd "${SHARED:-$root/../shared}" && pwd)"
out="${1:?usage: pool_split.sh OUT}"
per_class="${VAL_PER_CLASS:-200}"
calib_per_class="${CALIB_PER_CLASS:-50}"
pool2="$shared/data/pool2"
[ -f "$pool2/index.csv" ] || { echo "pool_split.sh: $pool2/index.csv not found" >&2; exit 1; }
mkdir -p "$out/coco_val" "$out/calib"
tmp="$out/.split.$$"
trap 'rm -f "$tmp"' EXIT
# key,file,label of every labelled COCO photo; key = a polynomial hash of the file name.
tail -n +2 "$pool2/index.csv" | awk -F, 'BEGIN {for (i = 32; i < 127; ++i) ord[sprintf("%c", i)] = i}
  $2 ~ /^coco_/ && $3 != "" {h = 0; for (i = 1; i <= length($1); ++i) h = (h * 131 + ord[substr($1, i, 1)]) % 2147483647
    printf "%010d,%s,%s\n", h, $1, $3}' | sort > "$tmp"
pick() {  # pick DIR FIRST COUNT: rows FIRST+1 .. FIRST+COUNT of each class, linked into DIR
  echo "file,label"
  for label in 1 0; do
    awk -F, -v l="$label" -v a="$2" -v n="$3" '$3 == l && k++ >= a && k <= a + n {print $2 "," $3}' "$tmp" | while IFS=, read -r file lab; do
      name="$(echo "$file" | tr / _)"
      ln -sf "$pool2/$file" "$1/$name"
      echo "$name,$lab"
    done
  done
}
pick "$out/coco_val" 0 "$per_class" > "$out/coco_val/labels.csv"
pick "$out/calib" "$per_class" "$calib_per_class" > "$out/calib/labels.csv"
held=$(($(wc -l < "$out/coco_val/labels.csv") - 1))
[ "$held" -eq $((2 * per_class)) ] || { echo "pool_split.sh: only $held labelled COCO photos to hold out" >&2; exit 1; }
# pool2 without the held-out photos, paths made absolute.
cut -d, -f1 "$out/coco_val/labels.csv" | tail -n +2 > "$tmp.names"
awk -F, -v base="$pool2" 'NR == FNR {skip[$1] = 1; next}
  FNR == 1 {print; next}
  {name = $1; gsub("/", "_", name); if (!(name in skip)) {$1 = base "/" $1; print}}' OFS=, "$tmp.names" "$pool2/index.csv" > "$out/pool2_train.csv"
rm -f "$tmp.names"
echo "pool_split.sh: $held held out in $out/coco_val, $(($(wc -l < "$out/pool2_train.csv") - 1)) photos in $out/pool2_train.csv" >&2
