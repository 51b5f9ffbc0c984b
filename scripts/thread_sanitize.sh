#!/usr/bin/env bash
# The tests of the code that runs on more than one thread (the worker pool and the ops it runs:
# every parallel kernel against one thread in test_parallel_ops and test_parallel_conv,
# the batch prefetch thread, and the per-thread buffer cache and free lists it allocates from)
# under ThreadSanitizer, in build-tsan/, with the pool at 3 threads whatever the machine. Only those test programs are built. Any data race report fails the run.
#
# Usage: scripts/thread_sanitize.sh
# Environment: TSAN_JOBS (parallel compile jobs, default nproc), TSAN_BUILD_DIR (default build-tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${TSAN_BUILD_DIR:-$ROOT/build-tsan}
JOBS=${TSAN_JOBS:-$(nproc)}
TESTS=(test_parallel test_parallel_ops test_parallel_conv test_batches test_train test_buffer_cache)

# ccache, when installed, makes a rebuild of an unchanged tree nearly free (not required).
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); export CCACHE_BASEDIR=$ROOT; fi
start=$SECONDS
cmake -S . -B "$BUILD" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DXTGRAD_BUILD_APPS=OFF -DXTGRAD_BUILD_BENCH=OFF -DXTGRAD_BUILD_EXAMPLES=OFF -DXTGRAD_FUZZ=OFF >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target "${TESTS[@]}"
build_s=$((SECONDS - start))

export OPENBLAS_NUM_THREADS=1 XTGRAD_NUM_THREADS=3
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
t0=$SECONDS
for t in "${TESTS[@]}"; do
  "$BUILD/tests/$t" --gtest_brief=1 >>"$log" 2>&1 || { cat "$log"; echo "thread_sanitize: $t failed" >&2; exit 1; }
done
if grep -q "ThreadSanitizer" "$log"; then
  cat "$log"
  echo "thread_sanitize: ThreadSanitizer reported a problem" >&2
  exit 1
fi
echo "thread_sanitize: build ${build_s}s, tests $((SECONDS - t0))s, ${#TESTS[@]} programs, no reports"
