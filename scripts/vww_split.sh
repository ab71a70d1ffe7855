#!/usr/bin/env bash
# Splits ../shared/data/vww01-dev into OUT/train (first 400 images of labels.csv) and
# OUT/val (last 100) as symlinks plus labels.csv, for quick training runs.
# Usage: scripts/vww_split.sh OUT
set -euo pipefail
src="$(cd "$(dirname "$0")/../../shared/data/vww01-dev" && pwd)"
out="${1:?usage: scripts/vww_split.sh OUT}"
mkdir -p "$out/train" "$out/val"
tail -n +2 "$src/labels.csv" | head -n 400 > "$out/train/labels.csv"
tail -n 100 "$src/labels.csv" > "$out/val/labels.csv"
for split in train val; do
  cut -d, -f1 "$out/$split/labels.csv" | while read -r f; do ln -sf "$src/$f" "$out/$split/$f"; done
done
echo "$out/train: $(wc -l < "$out/train/labels.csv") images, $out/val: $(wc -l < "$out/val/labels.csv") images"
