#!/usr/bin/env bash
# libFuzzer runs of the IDX reader, the npz reader and the spec parser (tests/fuzz/), built with
# clang++ -fsanitize=fuzzer,address,undefined in build-fuzz/. Each target starts from its seed
# corpus (tests/fuzz/corpus/<name>/, read-only) plus a working corpus in build-fuzz/corpus/ and
# runs for FUZZ_SECONDS. Any crash, leak, sanitizer report, timeout or out-of-memory fails the
# run; the input that caused it is kept in build-fuzz/artifacts/ and its path printed.
#
# Usage: scripts/fuzz.sh [target...]        (default: fuzz_idx fuzz_npz fuzz_spec)
# Environment: FUZZ_SECONDS (default 60) per target.
# Reproduce a finding: build-fuzz/fuzz/fuzz_npz build-fuzz/artifacts/fuzz_npz-crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$ROOT/build-fuzz
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then TARGETS=(fuzz_idx fuzz_npz fuzz_spec); fi

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/install_deps.sh --test installs clang)" >&2; exit 2; }

# ccache, when installed, makes a rebuild of an unchanged tree nearly free (not required).
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); export CCACHE_BASEDIR=$ROOT; fi
start=$SECONDS
cmake -S . -B "$BUILD" -G Ninja "${launcher[@]}" -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g" \
  -DXTGRAD_FUZZ=ON -DXTGRAD_BUILD_TESTS=ON -DXTGRAD_SANITIZE=OFF \
  -DXTGRAD_BUILD_APPS=OFF -DXTGRAD_BUILD_EXAMPLES=OFF -DXTGRAD_BUILD_BENCH=OFF > /dev/null
cmake --build "$BUILD" --target "${TARGETS[@]}"
echo "fuzz: build $((SECONDS - start))s"

# Longest input per target: room for a few small arrays or an MNIST-like header plus body.
max_len() {
  case $1 in
    fuzz_spec) echo 256 ;;
    *) echo 4096 ;;
  esac
}

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1
mkdir -p "$BUILD/artifacts"
failed=()
for target in "${TARGETS[@]}"; do
  name=${target#fuzz_}
  seeds=$ROOT/tests/fuzz/corpus/$name
  work=$BUILD/corpus/$name
  mkdir -p "$work"
  log=$BUILD/$target.log
  dict=()
  if [ -f "$ROOT/tests/fuzz/$name.dict" ]; then dict=(-dict="$ROOT/tests/fuzz/$name.dict"); fi
  echo "fuzz: $target for ${SECONDS_EACH}s (seeds: $(find "$seeds" -type f | wc -l) files)"
  t0=$SECONDS
  # -timeout: one input taking 10 s is a hang. -rss_limit_mb/-malloc_limit_mb: an input that
  # makes a reader allocate more than 1 GB is a finding (they must check sizes first).
  if "$BUILD/fuzz/$target" "$work" "$seeds" "${dict[@]}" \
      -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$target")" -timeout=10 \
      -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="$BUILD/artifacts/$target-" >"$log" 2>&1; then
    stats=$(grep -E '^stat::(number_of_executed_units|new_units_added)' "$log" | awk '{printf "%s ", $2}')
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
    echo "fuzz: $target ok in $((SECONDS - t0))s (executions, new units: $stats; $cov)"
  else
    echo "fuzz: $target FAILED after $((SECONDS - t0))s; last lines of $log:" >&2
    grep -vE '^#[0-9]+' "$log" | tail -40 >&2
    grep -E 'Test unit written to' "$log" >&2 || true
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ok (${TARGETS[*]}: no crash, leak or sanitizer report in ${SECONDS_EACH}s each)"
