#!/usr/bin/env bash
# The installed library as a user sees it: installs BUILD_DIR into a temporary prefix, then
# builds the README's Library example (examples/library/classify.cc) against it with
# find_package(personcls) (components runtime and personcls) and with pkg-config
# (personcls-runtime, personcls), runs every build on two shared images and checks the
# answers. The runtime-only build must refuse an .onnx model with a one-line error naming
# the library to link; the full build must read it (exported here by the installed CLI).
# Exit 77 (ctest: skipped) when ../shared is absent.
# PERSONCLS_CONSUMER_FLAGS: extra compile and link flags for the consumer builds (a build
# with PERSONCLS_SANITIZE installs instrumented libraries, which link only into programs
# built with the same -fsanitize flags).
# Usage: install_consumer_test.sh BUILD_DIR SOURCE_DIR SHARED_DIR
set -euo pipefail
build="$1" src="$2" shared="$3"
model="$shared/models/mlperf_vww_96_int8.tflite"
float_model="$shared/models/mlperf_vww_96_float.tflite"
person="$shared/images/COCO_train2014_000000000389.jpg"   # TinyMaix sample with people
nobody="$shared/images/COCO_train2014_000000000250.jpg"   # and one without
for f in "$model" "$float_model" "$person" "$nobody"; do
  [ -f "$f" ] || { echo "skipped: $f is absent (../shared)"; exit 77; }
done
mkdir -p "$build/test_tmp"
tmp="$(mktemp -d "$build/test_tmp/install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

fail() { echo "FAIL: $*" >&2; exit 1; }
# check NAME BINARY: the binary classifies both images as expected.
check() {
  local got
  got="$("$2" "$model" "$person")" || fail "$1: exit $? on $person"
  [[ "$got" == "Person "* ]] || fail "$1: $person gave '$got', expected Person"
  got="$("$2" "$model" "$nobody")" || fail "$1: exit $? on $nobody"
  [[ "$got" == "Not a person "* ]] || fail "$1: $nobody gave '$got', expected Not a person"
  echo "ok: $1"
}

"$prefix/bin/personcls" export --model "$float_model" --format onnx --out "$tmp/model.onnx" >/dev/null

flags="${PERSONCLS_CONSUMER_FLAGS:-}"
for target in runtime personcls; do
  cmake -S "$src/examples/library" -B "$tmp/cmake-$target" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" -DPERSONCLS_EXAMPLE_TARGET=$target >"$tmp/cmake-$target.log" 2>&1 || { cat "$tmp/cmake-$target.log"; fail "find_package ($target)"; }
  cmake --build "$tmp/cmake-$target" >>"$tmp/cmake-$target.log" 2>&1 || { cat "$tmp/cmake-$target.log"; fail "build ($target)"; }
  check "find_package, personcls::$target" "$tmp/cmake-$target/classify"
done

export PKG_CONFIG_PATH="$(dirname "$(find "$prefix" -name personcls.pc)")"
for pc in personcls-runtime personcls; do
  # shellcheck disable=SC2046  # the flags are words
  # rpath: a shared build (BUILD_SHARED_LIBS) is found without LD_LIBRARY_PATH.
  ${CXX:-c++} -O1 $flags "$src/examples/library/classify.cc" -o "$tmp/pc-$pc" $(pkg-config --cflags --libs --static "$pc") \
    -Wl,-rpath,"$(pkg-config --variable=libdir "$pc")" \
    || fail "pkg-config build ($pc)"
  check "pkg-config $pc" "$tmp/pc-$pc"
done

# Formats: the full library reads ONNX (float32: the same answer); the runtime alone says what
# to link, in one line.
for full in "$tmp/pc-personcls" "$tmp/cmake-personcls/classify"; do
  got="$("$full" "$tmp/model.onnx" "$person")" || fail "$full on model.onnx: exit $?"
  [[ "$got" == "Person "* ]] || fail "$full on model.onnx gave '$got'"
done
if "$tmp/cmake-runtime/classify" "$tmp/model.onnx" "$person" >"$tmp/out" 2>"$tmp/err"; then fail "runtime read an .onnx model"; fi
grep -q "model.onnx: reading .onnx models needs the personcls::onnx library" "$tmp/err" || fail "runtime on .onnx said: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "more than one error line: $(cat "$tmp/err")"
echo "ok: formats"
