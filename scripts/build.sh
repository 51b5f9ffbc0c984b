#!/usr/bin/env bash
# Configure (Ninja) and build xtgrad in build/.  Usage: scripts/build.sh [BUILD_TYPE]
# ccache, when installed, makes a rebuild of unchanged sources nearly free (not required).
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); export CCACHE_BASEDIR=$PWD; fi
cmake -S . -B build -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE="${1:-Release}"
cmake --build build -j"$(nproc)"
