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
ctest --test-dir build --output-on-failure --no-tests=error -j2

# The library as users get it: install to a temporary prefix, then build and run examples/
# as an out-of-tree project that only does find_package(xtgrad).
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix/install" > /dev/null
cmake -S examples -B "$prefix/examples" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/install" > /dev/null
cmake --build "$prefix/examples" -j"$(nproc)"
for example in "$prefix"/examples/*; do
  if [ -f "$example" ] && [ -x "$example" ]; then
    echo "example: $(basename "$example")"
    "$example"
  fi
done
echo "installed-package consumer: ok"
