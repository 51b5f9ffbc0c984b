#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer, with xtensor's
# bounds assertions on (XTGRAD_SANITIZE=ON), in build-asan/. Any finding fails the run:
# ASan/LSan/UBSan abort the test process, and the logs are scanned for reports as well.
#
# Usage: scripts/sanitize.sh
# Environment:
#   SANITIZE_OPT    optimization flags for the build (default "-O1 -g1"; see below)
#   SANITIZE_JOBS   parallel compile jobs (default: nproc)
#   SANITIZE_BUILD_DIR  build folder (default build-asan)
#   XTGRAD_MNIST_DIR  MNIST folder for the tests that need it (default data/mnist)
#
# Build type: Debug with SANITIZE_OPT replacing CMake's Debug flags, so assert() stays on and
# NDEBUG is not defined. -O1 is what the sanitizer docs recommend; -g1 (line tables only) is
# all the stack traces need. -O0 is not an option with -march=native on AVX-512 machines:
# xsimd's avx512bw kernels do not compile without optimization (invalid vector casts).
# Measured (2 cores, from scratch, one compile job): build 420 s, tests 33 s.
# Where the build time goes: ~120 compiles (library float 36, library double 37, tests 37, app
# 10); one test TU takes ~30 s at -O1 under ASan on a loaded 2-core machine. The app's double
# variant holds only blog_loss.cpp (all that tests/apps/test_blog_loss.cpp needs): 8 of the slowest
# compiles fewer than before. With ccache installed, a rerun of an unchanged tree is cached.
# MPI is left out of this tree: Open MPI's own allocations are not LeakSanitizer-clean, and the
# distributed tests run (under mpirun) in the Release suite of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${SANITIZE_BUILD_DIR:-$ROOT/build-asan}
OPT=${SANITIZE_OPT:--O1 -g1}
JOBS=${SANITIZE_JOBS:-$(nproc)}

# ccache, when installed, makes a rebuild of an unchanged tree nearly free (not required).
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); export CCACHE_BASEDIR=$ROOT; fi
start=$SECONDS
cmake -S . -B "$BUILD" -G Ninja "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Debug \
  "-DCMAKE_CXX_FLAGS_DEBUG=$OPT" \
  -DXTGRAD_SANITIZE=ON \
  -DXTGRAD_BUILD_BENCH=OFF -DXTGRAD_BUILD_EXAMPLES=OFF -DXTGRAD_BUILD_APPS=ON \
  -DXTGRAD_FUZZ=OFF \
  -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON > /dev/null
cmake --build "$BUILD" -j"$JOBS"
build_s=$((SECONDS - start))

export OPENBLAS_NUM_THREADS=1
export XTGRAD_MNIST_DIR=${XTGRAD_MNIST_DIR:-$ROOT/data/mnist}
# detect_leaks: LeakSanitizer at exit. abort_on_error/halt_on_error: a finding kills the test.
# strict_string_checks/check_initialization_order/detect_stack_use_after_return: cheap extras.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=report_objects=1

log=$BUILD/ctest.log
start=$SECONDS
if ctest --test-dir "$BUILD" --output-on-failure --no-tests=error -j"$JOBS" 2>&1 | tee "$log"; then
  status=0
else
  status=$?
fi
test_s=$((SECONDS - start))

# A report that somehow did not fail its test (e.g. printed by a child process whose exit
# status was ignored) still fails the run.
findings=$({ cat "$log" "$BUILD"/Testing/Temporary/LastTest.log 2>/dev/null || true; } |
  { grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' || true; })
skipped=$(grep -cE '^[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$log" || true)

echo "sanitize: build ${build_s}s, tests ${test_s}s, ${skipped} skipped, ${findings} sanitizer report lines"
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
  echo "sanitize: FAILED (ctest exit $status, $findings sanitizer report lines; see $log)" >&2
  exit 1
fi
echo "sanitize: ok (ASan + UBSan + LSan + xtensor asserts, zero findings)"
