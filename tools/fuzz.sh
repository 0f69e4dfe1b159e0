#!/usr/bin/env bash
# Builds Horn's libFuzzer targets (tests/fuzz/) with `bazel build --config=fuzz` (clang-14,
# -fsanitize=fuzzer,address,undefined; see .bazelrc) and runs them.
#
#   tools/fuzz.sh build                      build every target
#   tools/fuzz.sh run [SECONDS]              build, then run each target for SECONDS (default 50)
#   tools/fuzz.sh run 50 idx_reader_fuzz     one target
#
# Each run starts from the committed seed corpus (tests/fuzz/corpus/<target>, copied to
# $FUZZ_OUT so the repository is untouched); a crash leaves its input in $FUZZ_OUT/<target>-crash-*
# and fails the script: add it to the target's corpus (replayed by //tests/fuzz:<target>_corpus_test)
# and a test through the public API to tests/keras_api/fuzz_regression_test.cc.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${FUZZ_OUT:-/tmp/horn-fuzz}
targets=(idx_reader_fuzz model_file_fuzz checkpoint_pattern_fuzz tfjs_model_fuzz keras3_model_fuzz keras_h5_fuzz)
# keras_h5_fuzz soon finds damaged images on which Debian's libhdf5 1.10.8 never returns (a
# loop in H5HG_read, reached from H5T__conv_vlen while reading a variable-length string attribute:
# tests/fuzz/libhdf5_hangs/h5hg_read_loop.h5). Horn's readers run libhdf5 in a checking process
# with a time limit first (keras_api/hdf5_guard.h), so such an input is an ordinary error, and so
# is a libhdf5 crash (it finds SEGVs in H5HG_read too); both HDF5 targets lower that limit to a
# second. A sanitizer's report in the checking process is left in the log (it may be about libhdf5
# itself); Horn's code is checked by the targets' own parse, which follows a finished check.
# Such a stopped checking process also leaves a $FUZZ_OUT/<target>-crash-* file (libFuzzer's death
# callback runs in it): only this script's exit status says whether the target failed.

build() {
  local labels=() t
  for t in "${targets[@]}"; do labels+=("//tests/fuzz:$t"); done
  bazel build --config=fuzz "${labels[@]}"
  BIN=$(bazel info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz
}

run() {
  local seconds=${1:-50}; shift || true
  local chosen=("$@")
  [ $# -gt 0 ] || chosen=("${targets[@]}")
  build
  local failed=0 t
  for t in "${chosen[@]}"; do
    rm -rf "$OUT/corpus/$t" && mkdir -p "$OUT/corpus/$t"
    cp tests/fuzz/corpus/"$t"/* "$OUT/corpus/$t/"
    echo "=== fuzz: $t for ${seconds}s ==="
    # rss/malloc limits: a header or layer config announcing gigabytes must be refused, not allocated.
    # -timeout: an input still running after 30 s is a hang to report (libFuzzer's default is 20 min).
    if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
        "$BIN/$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
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
  run) shift || true; mkdir -p "$OUT"; run "$@" ;;
  *) echo "usage: tools/fuzz.sh build | run [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
