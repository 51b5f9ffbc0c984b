#!/usr/bin/env bash
# Configure (Ninja) and build xtgrad in build/.
# Usage: scripts/build.sh [BUILD_TYPE] [--app]
#   (default)  everything: library, app, tests, examples, benchmarks (needs install_deps.sh --test).
#   --app      the library and apps/mnist_regularization only (needs install_deps.sh alone):
#              what scripts/mnist.sh runs; no GoogleTest or Google Benchmark needed.
# ccache, when installed, makes a rebuild of unchanged sources nearly free (not required).
set -euo pipefail
cd "$(dirname "$0")/.."
type=Release
app_only=0
for arg in "$@"; do
  case $arg in
    --app) app_only=1 ;;
    -*) echo "build.sh: unknown option '$arg' (usage: scripts/build.sh [BUILD_TYPE] [--app])" >&2; exit 2 ;;
    *) type=$arg ;;
  esac
done
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); export CCACHE_BASEDIR=$PWD; fi
if ((app_only)); then
  parts=(-DXTGRAD_BUILD_TESTS=OFF -DXTGRAD_BUILD_BENCH=OFF -DXTGRAD_BUILD_EXAMPLES=OFF -DXTGRAD_BUILD_APPS=ON)
  target=(--target mnist_regularization)
else
  parts=(-DXTGRAD_BUILD_TESTS=ON -DXTGRAD_BUILD_BENCH=ON -DXTGRAD_BUILD_EXAMPLES=ON -DXTGRAD_BUILD_APPS=ON)
  target=()
fi
cmake -S . -B build -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE="$type" "${parts[@]}"
cmake --build build -j"$(nproc)" "${target[@]}"
