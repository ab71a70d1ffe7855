#!/usr/bin/env bash
# Installs what personcls needs on Debian 12 (only what is missing) and builds it into
# build/. Idempotent: a second run installs nothing and rebuilds only what changed.
# Usage: scripts/setup.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config
  libflatbuffers-dev flatbuffers-compiler
  libjpeg62-turbo-dev libpng-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libzip-dev libsimdjson-dev
  libonnx-dev libprotobuf-dev
  libssl-dev  # SHA-256 (libcrypto): training-image fingerprints, model hashes in eval reports
  libavformat-dev libavcodec-dev libswscale-dev libavdevice-dev libavutil-dev  # watch: video
  clang libclang-rt-14-dev
  chromium fonts-liberation  # headless render test of the eval HTML report (~2 s)
  libxnnpack-dev libpthreadpool-dev  # bench/peers: XNNPACK next to personcls (not needed by the CLI)
)

# The QEMU Cortex-M tests (ctest -R ^mcu_, tests/mcu/) cross-compile the runtime core for
# bare metal and run it in QEMU: only test builds need these; the main job does not.
MCU_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)
for arg in "$@"; do
  [ "$arg" = "-DPERSONCLS_BUILD_TESTS=ON" ] && PACKAGES+=("${MCU_PACKAGES[@]}")
done

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
