#!/usr/bin/env bash
# Full check: deps, MNIST data, Release build, then the test suite via ctest and the
# installed-package consumer check and the optional oneDNN backend's conv tests
# (scripts/onednn_check.sh); then (what CI runs, .ci/run) the proof of memory safety:
# the suite under ASan + UBSan (scripts/sanitize.sh), the threaded code under TSan
# (scripts/thread_sanitize.sh), the libFuzzer targets for FUZZ_SECONDS
# each (scripts/fuzz.sh), a short app run under valgrind (scripts/leak_check.sh) and the app's
# fault injection (scripts/fault_test.sh: kill -9, signals, full disk, FIFO, memory limit).
# Every stage prints its duration, and the last line sums them up.
# Usage: scripts/test.sh [--quick]    --quick: Release suite + consumer check only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (usage: scripts/test.sh [--quick])" >&2; exit 2 ;;
  esac
done

# stage NAME COMMAND...: runs COMMAND, prints how long it took and remembers it for the summary.
timings=()
stage() {
  local name=$1 t0=$SECONDS
  shift
  "$@"
  timings+=("$name $((SECONDS - t0))s")
  echo "test.sh: stage $name took $((SECONDS - t0))s"
}

stage install_deps scripts/install_deps.sh --test
stage fetch_mnist scripts/fetch_mnist.sh "$ROOT/data/mnist"
stage build scripts/build.sh Release

export OPENBLAS_NUM_THREADS=1
export XTGRAD_MNIST_DIR=$ROOT/data/mnist
stage ctest ctest --test-dir build --output-on-failure --no-tests=error -j2

# The library as users get it: install to a temporary prefix, then build and run examples/
# as an out-of-tree project that only does find_package(xtgrad).
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
consumer() {
  cmake --install build --prefix "$prefix/install" > /dev/null
  cmake -S examples -B "$prefix/examples" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/install" > /dev/null
  cmake --build "$prefix/examples" -j"$(nproc)"
  for example in "$prefix"/examples/*; do
    if [ -f "$example" ] && [ -x "$example" ]; then
      echo "example: $(basename "$example")"
      if [ "$(basename "$example")" = ddp_mnist ]; then  # data-parallel: 2 ranks (as root, Open MPI needs the two variables)
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 --oversubscribe "$example"
      else
        "$example"
      fi
    fi
  done
  echo "installed-package consumer: ok"
}
stage consumer consumer
stage onednn scripts/onednn_check.sh

if ((QUICK)); then
  echo "test.sh --quick: done (${timings[*]}; total ${SECONDS}s; skipped sanitize.sh, thread_sanitize.sh, fuzz.sh, leak_check.sh, fault_test.sh)"
  exit 0
fi
# Each script also prints its own build/run split.
for step in fault_test sanitize thread_sanitize fuzz leak_check; do
  stage "$step" "scripts/$step.sh"
done
echo "test.sh: all checks passed (${timings[*]}; total ${SECONDS}s)"
