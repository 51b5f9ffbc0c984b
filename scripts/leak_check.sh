#!/usr/bin/env bash
# A short run of the MNIST app under valgrind memcheck; any definitely-lost block fails it.
# "Possibly lost" blocks are reported but do not fail: OpenBLAS starts its worker threads at
# load time and never joins them, so their thread stacks/TLS show up as possibly lost.
# No suppression file is used.
#
# Which binary: the Release build's (build/) when valgrind can run it, as it can the default
# portable build (-march=x86-64-v3: AVX2 + FMA). Valgrind 3.19 (Debian bookworm) cannot decode
# AVX-512, so an XTGRAD_ARCH=native (or x86-64-v4) build dies with SIGILL on a CPU that has it;
# then the same Release app is built in build-valgrind/ with the default XTGRAD_ARCH and checked.
#
# Usage: scripts/leak_check.sh            LEAK_APP=path overrides the binary.
# Environment: XTGRAD_MNIST_DIR (default data/mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MNIST=${XTGRAD_MNIST_DIR:-$ROOT/data/mnist}

command -v valgrind >/dev/null || { echo "leak_check: valgrind not found (scripts/install_deps.sh --test installs it)" >&2; exit 2; }

start=$SECONDS
app=${LEAK_APP:-}
if [ -z "$app" ]; then
  arch=$(sed -n 's/^XTGRAD_ARCH:STRING=//p' build/CMakeCache.txt 2>/dev/null || true)
  native=$(sed -n 's/^XTGRAD_NATIVE:BOOL=//p' build/CMakeCache.txt 2>/dev/null || true)
  avx512_build=0
  if [[ $native == ON || $arch == native || $arch == *v4* || $arch == *avx512* || $arch == *skylake* || \
        $arch == *sapphire* || $arch == *icelake* || $arch == *znver4* ]]; then avx512_build=1; fi
  if [ -x build/apps/mnist_regularization/mnist_regularization ] && \
     { ((avx512_build == 0)) || ! grep -qw avx512f /proc/cpuinfo; }; then
    app=$ROOT/build/apps/mnist_regularization/mnist_regularization
  else
    echo "leak_check: valgrind cannot run an AVX-512 build (XTGRAD_ARCH=${arch:-?}); building the Release app in build-valgrind/ with the default XTGRAD_ARCH"
    launcher=()  # ccache when installed (not required)
    if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); export CCACHE_BASEDIR=$ROOT; fi
    cmake -S . -B build-valgrind -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DXTGRAD_NATIVE=OFF -DXTGRAD_ARCH=x86-64-v3 \
      -DXTGRAD_BUILD_TESTS=OFF -DXTGRAD_BUILD_EXAMPLES=OFF -DXTGRAD_BUILD_BENCH=OFF -DXTGRAD_BUILD_APPS=ON > /dev/null
    cmake --build build-valgrind --target mnist_regularization
    app=$ROOT/build-valgrind/apps/mnist_regularization/mnist_regularization
  fi
fi
build_s=$((SECONDS - start))

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
log=$out/valgrind.log
start=$SECONDS
status=0
# --errors-for-leak-kinds=definite: only definite leaks count as errors (exit 9);
# invalid reads/writes, uses of uninitialised values etc. are errors too.
OPENBLAS_NUM_THREADS=1 valgrind --leak-check=full --show-leak-kinds=definite,possible \
  --errors-for-leak-kinds=definite --error-exitcode=9 --num-callers=30 --log-file="$log" \
  "$app" --data "$MNIST" --train-size 500 --epochs 1 --reg none --reg 'l1(lambd=1e-4)' \
  --no-plots --quiet --out "$out/run" || status=$?
run_s=$((SECONDS - start))

# With one OpenBLAS thread nothing may be left at all ("All heap blocks were freed").
sed -n '/HEAP SUMMARY/,/ERROR SUMMARY/p' "$log" | grep -vE '^==[0-9]+== *$' | grep -vE '^==[0-9]+==    (at|by) ' || true
echo "leak_check: $app"
echo "leak_check: build ${build_s}s, valgrind run ${run_s}s, exit $status"
if [ "$status" -ne 0 ]; then
  if [ "$status" -eq 9 ]; then
    echo "leak_check: FAILED: valgrind found definite leaks or memory errors:" >&2
  else
    echo "leak_check: FAILED: the app exited with $status under valgrind:" >&2
  fi
  grep -vE '^==[0-9]+== *$' "$log" | tail -80 >&2
  exit 1
fi
if ! grep -q 'definitely lost: 0 bytes in 0 blocks\|All heap blocks were freed' "$log"; then
  echo "leak_check: FAILED: no clean leak summary in the valgrind log:" >&2
  tail -40 "$log" >&2
  exit 1
fi
echo "leak_check: ok (no definite leaks, no memory errors)"
