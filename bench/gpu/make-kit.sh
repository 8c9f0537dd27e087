#!/usr/bin/env bash
# Builds the folder bench/gpu/run.sh needs on a GPU machine, on any x86-64 Linux machine
# (no GPU, no CUDA toolkit, no internet beyond the crate registry):
#
#   bench/gpu/make-kit.sh [KIT]      (default KIT: gpu-kit/ at the repo root, git-ignored)
#
# KIT/pgl.xz: stripped release `pgl` with the cuda backend; KIT/mnist: MNIST from $PGL_DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT="${1:-gpu-kit}"
DATA="${PGL_DATA_DIR:-$(cd .. && pwd)/shared/data}"
mkdir -p "$KIT/mnist"
CARGO_PROFILE_RELEASE_STRIP=symbols cargo build --release -p pgl-cli --features cuda
target="${CARGO_TARGET_DIR:-target}"
xz -T0 -6 -c "$target/release/pgl" >"$KIT/pgl.xz"
cp "$DATA"/mnist/*.gz "$KIT/mnist/"
ls -l "$KIT" "$KIT/mnist"
echo "run on the GPU machine: bench/gpu/run.sh $KIT"
