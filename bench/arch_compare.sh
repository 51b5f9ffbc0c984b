#!/usr/bin/env bash
# The cost of the portable build: bench_train_step and bench_conv built twice, with the default
# XTGRAD_ARCH (x86-64-v3) in build-bench/ and with XTGRAD_ARCH=native in build-bench-native/,
# then run alternately (ROUNDS rounds, each binary once per round) in one session, so both see
# the same machine. Prints, per benchmark, the median real time of each build and the ratio
# portable / native, and the load average before and after; writes bench/results/arch.md.
#
# Usage: bench/arch_compare.sh [--rounds N] [--jobs N] [--filter REGEX] [--no-build]
#   --no-build: time the binaries a previous run built (both from the same sources) again.
# The same OPENBLAS_* environment for both builds (OpenBLAS picks its kernels at run time
# either way: only xtgrad's own code differs between the two).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROUNDS=5
JOBS=2
FILTER='.'
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --filter) FILTER=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "arch_compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "arch_compare.sh: --rounds must be a positive integer, got '$ROUNDS'" >&2; exit 2; }

launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); export CCACHE_BASEDIR=$ROOT; fi
build() {  # dir, arch
  mkdir -p "$1"
  cmake -S . -B "$1" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DXTGRAD_ARCH="$2" -DXTGRAD_NATIVE=OFF \
    -DXTGRAD_BUILD_TESTS=OFF -DXTGRAD_BUILD_EXAMPLES=OFF -DXTGRAD_BUILD_APPS=ON -DXTGRAD_BUILD_BENCH=ON > "$1/arch_compare.configure.log" 2>&1 ||
    { cat "$1/arch_compare.configure.log" >&2; exit 1; }
  grep -o 'xtgrad: .*' "$1/arch_compare.configure.log" >&2 || true
  cmake --build "$1" -j "$JOBS" --target bench_train_step bench_conv > "$1/arch_compare.build.log" 2>&1 || { tail -40 "$1/arch_compare.build.log" >&2; exit 1; }
}
if ((BUILD)); then
  build build-bench x86-64-v3
  build build-bench-native native
fi
for b in build-bench/bench/bench_train_step build-bench-native/bench/bench_conv; do
  [[ -x $b ]] || { echo "arch_compare.sh: $b is missing (run without --no-build)" >&2; exit 2; }
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= ROUNDS; ++r)); do
  for variant in portable native; do
    dir=build-bench; [[ $variant == native ]] && dir=build-bench-native
    for b in bench_train_step bench_conv; do
      "$dir/bench/$b" --benchmark_filter="$FILTER" --benchmark_min_time=0.2 --benchmark_format=json \
        --benchmark_out="$out/${variant}_${b}_$r.json" --benchmark_out_format=json > /dev/null 2> "$out/err.log" ||
        { cat "$out/err.log" >&2; exit 1; }
    done
  done
  echo "arch_compare: round $r of $ROUNDS done" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$out" "$load_before" "$load_after" <<'PY' | tee bench/results/arch.md
import glob, json, os, statistics, sys
out, before, after = sys.argv[1:4]
times = {}
for path in glob.glob(os.path.join(out, "*.json")):
    variant = os.path.basename(path).split("_")[0]
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration":
            continue
        us = b["real_time"] * {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
        times.setdefault(b["name"], {}).setdefault(variant, []).append(us)
print(f"load average before {before}, after {after} (2 cores)\n")
print("| benchmark | portable x86-64-v3 µs | native µs | portable / native |")
print("|---|---:|---:|---:|")
ratios = []
for name in sorted(times):
    t = times[name]
    if "portable" not in t or "native" not in t:
        continue
    p, n = statistics.median(t["portable"]), statistics.median(t["native"])
    ratios.append(p / n)
    print(f"| {name} | {p:.1f} | {n:.1f} | {p / n:.3f} |")
if ratios:
    g = 1.0
    for x in ratios:
        g *= x
    print(f"\ngeometric mean of portable / native over {len(ratios)} benchmarks: {g ** (1 / len(ratios)):.3f}")
PY
