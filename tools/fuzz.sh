#!/usr/bin/env bash
# Builds and runs Horn's libFuzzer targets (tests/fuzz/*_fuzz.cc) with ASan + UBSan.
#
#   tools/fuzz.sh build              compile every target into $FUZZ_OUT (default /tmp/horn-fuzz)
#   tools/fuzz.sh run [SECONDS]      build, then run each target for SECONDS (default 50)
#   tools/fuzz.sh run 50 idx_reader_fuzz     one target
#
# Why a script and not `bazel --config=fuzz`: libFuzzer needs clang, and pointing Bazel 4's
# autodetected C++ toolchain at clang-14 reconfigures it, which discards the g++ build cache
# that every other build of the tree uses. The targets need only a few sources, so clang++
# compiles them directly in about a minute. Each run starts from the committed seed corpus
# (tests/fuzz/corpus/<target>, copied so the repository is untouched); a crash leaves its input
# in $FUZZ_OUT/<target>-crash-* and fails the script: turn it into a test in
# tests/keras_api/fuzz_regression_test.cc.
set -euo pipefail
cd "$(dirname "$0")/.."

CXX=${CXX_FUZZ:-clang++-14}
OUT=${FUZZ_OUT:-/tmp/horn-fuzz}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CXXFLAGS="-std=c++20 -O1 -g -I. -I/usr/include/eigen3 $SAN"

common=(core/shape.cc core/dtype.cc core/tensor.cc)
declare -A sources=(
  [idx_reader_fuzz]="keras_api/datasets/idx.cc keras_api/datasets/gzip_reader.cc"
  [model_file_fuzz]="keras_api/model_file.cc keras_api/file_io.cc"
  [checkpoint_pattern_fuzz]="keras_api/checkpoint_pattern.cc"
  [tfjs_model_fuzz]="keras_api/tfjs_format.cc keras_api/keras_config_json.cc keras_api/file_io.cc core/attr.cc core/fused_program.cc"
)
targets=(idx_reader_fuzz model_file_fuzz checkpoint_pattern_fuzz tfjs_model_fuzz)

build() {
  mkdir -p "$OUT/obj"
  local objs=() src obj
  local all=() t2
  for t2 in "${targets[@]}"; do all+=(${sources[$t2]}); done
  for src in "${common[@]}" $(printf '%s\n' "${all[@]}" | sort -u); do
    obj="$OUT/obj/${src//\//_}.o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
      echo "fuzz: compiling $src"
      $CXX $CXXFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
    fi
  done
  wait
  for t in "${targets[@]}"; do
    objs=()
    for src in "${common[@]}" ${sources[$t]}; do objs+=("$OUT/obj/${src//\//_}.o"); done
    echo "fuzz: linking $t"
    $CXX $CXXFLAGS -fsanitize=fuzzer "tests/fuzz/$t.cc" "${objs[@]}" -lz -ltbb -o "$OUT/$t"
  done
}

run() {
  local seconds=${1:-50}; shift || true
  local chosen=("${@:-${targets[@]}}")
  [ $# -gt 0 ] || chosen=("${targets[@]}")
  build
  local failed=0 t
  for t in "${chosen[@]}"; do
    rm -rf "$OUT/corpus/$t" && mkdir -p "$OUT/corpus/$t"
    cp tests/fuzz/corpus/"$t"/* "$OUT/corpus/$t/"
    echo "=== fuzz: $t for ${seconds}s ==="
    # rss/malloc limits: a header announcing gigabytes must be refused, not allocated.
    if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
        "$OUT/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$OUT/$t-" "$OUT/corpus/$t" 2>"$OUT/$t.log"; then
      tail -60 "$OUT/$t.log" >&2
      echo "fuzz: $t FAILED; the input is in $OUT/$t-*" >&2
      failed=1
    else
      grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$OUT/$t.log" || true
    fi
  done
  return $failed
}

case "${1:-run}" in
  build) build ;;
  run) shift || true; run "$@" ;;
  *) echo "usage: tools/fuzz.sh build | run [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
