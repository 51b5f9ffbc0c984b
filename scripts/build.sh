#!/usr/bin/env bash
# Configure (Ninja) and build xtgrad in build/.  Usage: scripts/build.sh [BUILD_TYPE]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${1:-Release}"
cmake --build build -j"$(nproc)"
