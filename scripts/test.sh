#!/usr/bin/env bash
# Full check: deps, MNIST data, Release build, then the test suite via ctest and the
# installed-package consumer check; then (what CI runs, .ci/run) the proof of memory safety:
# the suite under ASan + UBSan (scripts/sanitize.sh), the threaded code under TSan
# (scripts/thread_sanitize.sh), the libFuzzer targets for FUZZ_SECONDS
# each (scripts/fuzz.sh) and a short app run under valgrind (scripts/leak_check.sh).
# Usage: scripts/test.sh [--quick]    --quick: Release suite + consumer check only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (usage: scripts/test.sh [--quick])" >&2; exit 2 ;;
  esac
done

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

if ((QUICK)); then
  echo "test.sh --quick: done (skipped sanitize.sh, thread_sanitize.sh, fuzz.sh, leak_check.sh)"
  exit 0
fi
# Each step prints its own timings; the total is printed here.
timings=()
for step in sanitize thread_sanitize fuzz leak_check; do
  t0=$SECONDS
  "scripts/$step.sh"
  timings+=("$step $((SECONDS - t0))s")
done
echo "test.sh: all checks passed (${timings[*]}; total ${SECONDS}s)"
