#!/usr/bin/env bash
# Sustained frame rate of `personcls watch` with the embedded default model on a 640x480
# H.264 stream: 30 s at 30 fps (900 frames), a panning mosaic of vww01-dev photos written
# by build/bench/personcls_watch_stream. Three ways of watching it:
#   offline   every frame, as fast as possible (decode and inference overlap)
#   live      --live: the file played at its own 30 fps, frames dropped if inference lags
#   annotated offline, plus --out annotated.mp4 (H.264 encode of every frame)
# CPU ms/frame is (user + sys) / frames processed, both threads together: it depends less
# on other load than the wall-clock rate does. Prints a Markdown table for bench/RESULTS.md.
# Usage: bench/run_watch_fps.sh [BUILD_DIR] [RUNS]   (defaults: build 3)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
runs="${2:-3}"
bin="$build/personcls"
[ -x "$bin" ] && [ -x "$build/bench/personcls_watch_stream" ] || {
  echo "build first: cmake --build $build --target personcls personcls_watch_stream" >&2
  exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stream="$tmp/stream640.mp4"
"$build/bench/personcls_watch_stream" ../shared/data/vww01-dev "$stream" 30 >&2

field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2"; }
echo "| mode | run | processed | dropped | wall s | frames/s | CPU ms/frame | inference ms/frame |"
echo "|---|---|---|---|---|---|---|---|"
for mode in offline live annotated; do
  for run in $(seq "$runs"); do
    case $mode in
      offline) extra=() ;;
      live) extra=(--live) ;;
      annotated) extra=(--out "$tmp/annotated.mp4") ;;
    esac
    TIMEFORMAT="%U %S"
    { time "$bin" watch --json --events-only "${extra[@]}" "$stream" | tail -n 1 >"$tmp/summary.json"; } 2>"$tmp/time"
    read -r user sys <"$tmp/time"
    s="$tmp/summary.json"
    awk -v m="$mode" -v r="$run" -v p="$(field frames_processed "$s")" -v d="$(field frames_dropped "$s")" \
      -v w="$(field wall_seconds "$s")" -v f="$(field fps "$s")" -v i="$(field inference_ms "$s")" -v u="$user" -v y="$sys" \
      'BEGIN {printf "| %s | %d | %d | %d | %.2f | %.1f | %.2f | %.2f |\n", m, r, p, d, w, f, 1000 * (u + y) / p, i}'
  done
done
