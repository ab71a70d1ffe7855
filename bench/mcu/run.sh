#!/usr/bin/env bash
# Microcontroller figures: instructions per inference, RAM and flash of the personcls
# runtime on QEMU's Cortex-M4 (mps2-an386) and Cortex-M55 (mps3-an547), as in
# bench/RESULTS.md ("Microcontrollers").
#
# Usage: bench/mcu/run.sh [BUILD_DIR]   (default build/, configured with tests on:
#        scripts/setup.sh -DPERSONCLS_BUILD_TESTS=ON builds the firmware and the driver)
#
# Instructions: QEMU -icount shift=0 runs one guest instruction per virtual nanosecond, and
# the firmware reads SysTick (CPU clock: 25 MHz on an386, 32 MHz on an547) around Invoke()
# (each run also checks 1 tick = 40 / 31.25 instructions on a calibration loop). "fast" =
# the board's MCU kernels (arm_dsp / arm_mve), "ref" = the reference kernels; every output
# byte is checked against the host (and the goldens for shared models) as in the tests.
# RAM = arena + prepared data + deepest stack (Init or Invoke). Flash = .text + .data of
# the firmware example (examples/cortex-m: runtime, kernels, start-up, model).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
check="$build/tests/mcu/personcls_mcu_check"
[ -x "$check" ] || { echo "bench/mcu/run.sh: $check missing: configure with -DPERSONCLS_BUILD_TESTS=ON and build (needs the Arm toolchain and QEMU)" >&2; exit 1; }
shared="$root/../shared"
qemu="$(command -v qemu-system-arm)"
work="$build/mcu-bench"
mkdir -p "$work"

board_args() {  # board -> driver arguments
  case "$1" in
    an386) echo "--machine mps2-an386 --job-addr 0x21000000 --systick-hz 25000000" ;;
    an547) echo "--machine mps3-an547 --job-addr 0x70000000 --systick-hz 32000000" ;;
  esac
}

echo "| board | model | MACs | fast kernels: instructions | per MAC | reference: instructions | per MAC | speed-up | arena B | prepared B | stack B | RAM B |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for board in an386 an547; do
  # shellcheck disable=SC2046
  common=(--qemu "$qemu" $(board_args "$board") --firmware "$build/mcu-$board/mcu_runner.elf" --work "$work" --reference --markdown)
  "$check" "${common[@]}" --model default --inputs 4 --input-dir "$shared/data/vww01-dev" | sed -n 's/^MARKDOWN //p'
  if [ -d "$shared/models" ]; then
    "$check" "${common[@]}" --model "$shared/models/mlperf_vww_96_int8.tflite" --golden "$shared/golden/mlperf_vww_96_int8.dev.csv" \
      --input-dir "$shared/data/vww01-dev" --inputs 2 | sed -n 's/^MARKDOWN //p'
    "$check" "${common[@]}" --model "$shared/models/tflm_person_detect.tflite" --golden "$shared/golden/tflm_person_detect.dev.csv" \
      --input-dir "$shared/data/vww01-dev" --input-kind gray --inputs 2 | sed -n 's/^MARKDOWN //p'
  fi
done

echo
echo "| board | firmware example flash (.text + .data) | of which the model | code | .bss (arena, prepared, stack, buffers) |"
echo "|---|---|---|---|---|"
model_bytes=$(grep -o 'tflite_len = [0-9]*' "$root/src/default_model/default_model.cc" | grep -o '[0-9]*$')
for board in an386 an547; do
  read -r text data bss _ < <(arm-none-eabi-size "$build/mcu-$board/example/person_example.elf" | tail -1)
  echo "| $board | $((text + data)) B | $model_bytes B | $((text + data - model_bytes)) B | $bss B |"
done
