#!/usr/bin/env bash
# Full check: deps, MNIST data, Release build, then the test suite via ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

scripts/install_deps.sh
scripts/fetch_mnist.sh "$ROOT/data/mnist"
scripts/build.sh Release

export OPENBLAS_NUM_THREADS=1
export XTGRAD_MNIST_DIR=$ROOT/data/mnist
ctest --test-dir build --output-on-failure -j2
