#!/usr/bin/env bash
# //tools:convert between the formats: TensorFlow.js -> Keras .h5 -> TensorFlow.js -> .horn,
# TensorFlow.js -> Keras 3 .keras -> Keras .h5, a refusal of what .keras cannot hold,
# and a clear failure for a file that is no model and for a damaged .h5. (Predictions across formats are compared in
# tests/keras_api/h5_format_test.cc.)
set -euo pipefail
convert="$TEST_SRCDIR/$TEST_WORKSPACE/tools/convert"
mlp="$TEST_SRCDIR/$TEST_WORKSPACE/tests/keras_api/testdata/tfjs/mlp"
cnn="$TEST_SRCDIR/$TEST_WORKSPACE/tests/keras_api/testdata/tfjs/cnn"
out="$TEST_TMPDIR"

"$convert" "$mlp" "$out/mlp.h5" | grep -q "(TensorFlow.js Layers, 10 layers, .* parameters) -> .*mlp.h5 (Keras 2 HDF5)"
"$convert" "$out/mlp.h5" "$out/web/" | grep -q "(Keras 2 HDF5,.*(TensorFlow.js Layers)"
test -s "$out/web/model.json" && test -s "$out/web/group1-shard1of1.bin"
"$convert" "$out/web" "$out/mlp.horn" | grep -q "(.horn)"
cmp <(head -c 8 "$out/mlp.horn") <(printf 'HORNMODL')

"$convert" "$cnn" "$out/cnn.keras" | grep -q "(TensorFlow.js Layers, 12 layers, .* parameters) -> .*cnn.keras (Keras 3 .keras)"
cmp <(head -c 4 "$out/cnn.keras") <(printf 'PK\003\004')
"$convert" "$out/cnn.keras" "$out/cnn.h5" | grep -q "(Keras 3 .keras, 13 layers,.*(Keras 2 HDF5)"
# The MLP uses hard_sigmoid, which Keras 3 redefined: refused, and no file is left.
if "$convert" "$mlp" "$out/mlp.keras" 2>"$out/err"; then echo "hard_sigmoid exported to .keras" >&2; exit 1; fi
grep -q "hard_sigmoid" "$out/err" && test ! -e "$out/mlp.keras"

echo "not a model" > "$out/junk.txt"
if "$convert" "$out/junk.txt" "$out/x.h5" 2>"$out/err"; then echo "junk converted" >&2; exit 1; fi
grep -q "not a Horn model file" "$out/err"
# A damaged .h5 on which libhdf5 loops forever: an error within the guard's limit (keras_api/hdf5_guard.h).
hang="$TEST_SRCDIR/$TEST_WORKSPACE/tests/fuzz/libhdf5_hangs/h5hg_read_loop.h5"
if "$convert" "$hang" "$out/hang.horn" 2>"$out/err"; then echo "a damaged .h5 converted" >&2; exit 1; fi
grep -q "h5hg_read_loop.h5': libhdf5 did not finish reading it" "$out/err" && test ! -e "$out/hang.horn"
if "$convert" only_one_argument 2>/dev/null; then exit 1; fi
echo "convert_test: ok"
