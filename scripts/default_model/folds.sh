#!/usr/bin/env bash
# Stratified K-fold split of a labels.csv directory (default ../shared/data/vww01-dev):
# the i-th image of each class, in labels.csv order, goes to fold (i mod K). Writes
# OUT/fold<k>/train and OUT/fold<k>/val (k = 0..K-1) as symlinks plus labels.csv, so the
# folds are the same on every machine and every run.
# Usage: scripts/default_model/folds.sh K OUT [DATA_DIR]
set -euo pipefail
k="${1:?usage: folds.sh K OUT [DATA_DIR]}"
out="${2:?usage: folds.sh K OUT [DATA_DIR]}"
src="$(cd "${3:-$(dirname "$0")/../../../shared/data/vww01-dev}" && pwd)"
[ -f "$src/labels.csv" ] || { echo "folds.sh: $src/labels.csv: not found" >&2; exit 1; }
# Idempotent (several cv.sh runs may share OUT): labels.csv files are written under a
# temporary name and renamed; links are replaced in place.
tmp="$out/.labels.$$"
rm -rf "$tmp"
for ((f = 0; f < k; f++)); do
  for split in train val; do
    mkdir -p "$out/fold$f/$split" "$tmp/fold$f/$split"
    echo "file,label" > "$tmp/fold$f/$split/labels.csv"
  done
done
# Skip a header line (a non-integer label), count per class, route each line.
awk -F, -v K="$k" -v OUT="$tmp" '
  $2 !~ /^[0-9]+\r?$/ { next }
  { label = $2; sub(/\r$/, "", label); fold = seen[label]++ % K;
    for (f = 0; f < K; f++) print $1 "," label >> (OUT "/fold" f "/" (f == fold ? "val" : "train") "/labels.csv") }
' "$src/labels.csv"
for ((f = 0; f < k; f++)); do
  for split in train val; do mv -f "$tmp/fold$f/$split/labels.csv" "$out/fold$f/$split/labels.csv"; done
done
rm -rf "$tmp"
for ((f = 0; f < k; f++)); do
  for split in train val; do
    tail -n +2 "$out/fold$f/$split/labels.csv" | cut -d, -f1 | while read -r file; do ln -sf "$src/$file" "$out/fold$f/$split/$file"; done
  done
done
echo "folds.sh: $k folds of $src in $out ($(($(wc -l < "$out/fold0/val/labels.csv") - 1)) validation images in fold 0)" >&2
