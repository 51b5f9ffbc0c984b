#!/usr/bin/env bash
# xtgrad vs PyTorch on the seed workload, side by side in one run (issue 4).
#
#   bench/compare.sh [--epochs N] [--data DIR] [--scaling] [--scaling-epochs N] [--jobs N]
#                    [--unset-openblas-env]
#
# 1. Builds Release in build-bench/ (bench_ops, bench_train_step, train_speed).
# 2. Measures the single-thread sgemm rate at 64x784x200 (bench_ops BM_sgemm/fwd1, median of
#    5 repetitions): the "GEMM bound" below divides by it.
# 3. Runs xtgrad's train_speed and bench/reference_pytorch.py (Debian python3-torch, float32,
#    one thread: torch's intra-op pool AND OpenBLAS's own pool, which torch's float32 matmuls
#    use here and which torch.set_num_threads alone leaves at 2) alternately for none / l2 / l1, N epochs each (default 4: 1 warm-up + 3 timed),
#    and prints a markdown table (also written to bench/results/compare.md):
#    s/epoch median and min of the timed epochs, ratio xtgrad/PyTorch, GEMM-bound efficiency,
#    peak RSS, test accuracy. Plus the allocations per training step (bench_train_step), and
#    both frameworks once more without penalty on two threads (xtgrad: --threads 2, which
#    prefetches batches on the second core; PyTorch: torch threads 2, OpenBLAS threads 1, its
#    fastest two-thread setting here).
# 4. --scaling: batch 16/64/256/1024 (hidden 200) and hidden 200/800/3200 (batch 64), both
#    frameworks, --scaling-epochs each (default 2: 1 warm-up + 1 timed), written to
#    bench/results/scaling.csv and plotted (log axes) to bench/results/scaling.png (gnuplot).
#
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are left as the environment sets them and reported,
# with the kernel family OpenBLAS then runs in each framework. --unset-openblas-env unsets
# both for everything in the run (OpenBLAS then picks its kernels for this CPU: AVX-512
# "Cooperlake" here) and writes compare_unset.md instead of compare.md.
# Both programs use one thread (except the two-thread rows). The machine is shared: the load average is printed before
# and after; with other work running, every number here is noisy (compare within one run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=build-bench
EPOCHS=4
SCALING=0
SCALING_EPOCHS=2
DATA=data/mnist
JOBS=2
PYTHON=/usr/bin/python3  # Debian's torch is importable from the system python only
SUFFIX=

usage() { sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) EPOCHS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --scaling) SCALING=1; shift ;;
    --scaling-epochs) SCALING_EPOCHS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --unset-openblas-env) unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; SUFFIX=_unset; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$EPOCHS" =~ ^[1-9][0-9]*$ && "$SCALING_EPOCHS" =~ ^[1-9][0-9]*$ ]] || {
  echo "compare.sh: --epochs and --scaling-epochs must be positive integers" >&2; exit 2; }
[[ -d "$DATA" ]] || { echo "compare.sh: no MNIST folder '$DATA' (scripts/fetch_mnist.sh fetches it)" >&2; exit 3; }
"$PYTHON" -c 'import torch' 2>/dev/null || { echo "compare.sh: $PYTHON cannot import torch (apt install python3-torch)" >&2; exit 3; }

RESULTS=bench/results
LOGS=$BUILD/compare-logs
mkdir -p "$RESULTS" "$LOGS"
log() { echo "[compare] $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- 1. build -------------------------------------------------------------------------------
GEN=()
if [[ ! -f $BUILD/CMakeCache.txt ]] && command -v ninja >/dev/null; then GEN=(-G Ninja); fi
log "configuring and building Release in $BUILD/ (-j$JOBS)"
cmake -S . -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DXTGRAD_BUILD_TESTS=OFF \
  -DXTGRAD_BUILD_APPS=ON -DXTGRAD_BUILD_BENCH=ON >"$LOGS/configure.log" 2>&1 ||
  { cat "$LOGS/configure.log" >&2; exit 1; }
cmake --build "$BUILD" -j "$JOBS" --target bench_ops bench_train_step train_speed >"$LOGS/build.log" 2>&1 ||
  { tail -50 "$LOGS/build.log" >&2; exit 1; }
TRAIN_SPEED=$BUILD/bench/train_speed

LOAD_BEFORE=$(loadavg)
log "load average before: $LOAD_BEFORE (2 cores; above ~1 the timings are noisy)"

# ---- 2. the machine's sgemm rate ------------------------------------------------------------
log "measuring single-thread sgemm at 64x784x200 (bench_ops)"
"$BUILD/bench/bench_ops" --benchmark_filter='BM_sgemm/(fwd1|dW1|dX1)' --benchmark_repetitions=5 \
  --benchmark_min_time=0.3 --benchmark_format=json --benchmark_out="$LOGS/sgemm.json" \
  --benchmark_out_format=json >/dev/null 2>"$LOGS/sgemm.err"
read -r SGEMM SGEMM_DW SGEMM_DX < <("$PYTHON" - "$LOGS/sgemm.json" <<'EOF'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
def med(tag):
    v = [b["GFLOPS"] for b in runs if b.get("run_type") == "iteration" and tag in b["name"]]
    return statistics.median(v)
print(f"{med('fwd1'):.1f} {med('dW1'):.1f} {med('dX1'):.1f}")
EOF
)
log "sgemm GFLOP/s (median of 5): fwd1 $SGEMM, dW1 $SGEMM_DW, dX1 $SGEMM_DX"

# ---- 3. allocations per training step -------------------------------------------------------
log "allocations per training step (bench_train_step)"
"$BUILD/bench/bench_train_step" --benchmark_min_time=0.3 --benchmark_format=json \
  --benchmark_out="$LOGS/train_step.json" --benchmark_out_format=json >/dev/null 2>"$LOGS/train_step.err"

# ---- 4. side by side: none / l2 / l1 ----------------------------------------------------------
run_pair() {  # tag, then the shared flags; writes $LOGS/<fw>_<tag>.json (last stdout line)
  local tag=$1; shift  # THREADS (default 1) sets both frameworks' threads
  log "xtgrad  $tag: threads ${THREADS:-1} $*"
  "$TRAIN_SPEED" --data "$DATA" --threads "${THREADS:-1}" "$@" >"$LOGS/xtgrad_$tag.log"
  tail -n 1 "$LOGS/xtgrad_$tag.log" >"$LOGS/xtgrad_$tag.json"
  log "pytorch $tag: threads ${THREADS:-1} $*"
  "$PYTHON" bench/reference_pytorch.py --data "$DATA" --threads "${THREADS:-1}" \
    --blas-threads "${TORCH_BLAS_THREADS:-${THREADS:-1}}" "$@" >"$LOGS/pytorch_$tag.log"
  tail -n 1 "$LOGS/pytorch_$tag.log" >"$LOGS/pytorch_$tag.json"
}
for reg in none l2 l1; do
  run_pair "$reg" --reg "$reg" --epochs "$EPOCHS"
done
# PyTorch on two threads: torch's pool 2, OpenBLAS 1 is its fastest setting here (OpenBLAS 2
# as well oversubscribes the two cores: 1.04 s/epoch; torch 1 + OpenBLAS 2: 0.169 s).
THREADS=2 TORCH_BLAS_THREADS=1 run_pair none_threads2 --reg none --epochs "$EPOCHS"
LOAD_AFTER=$(loadavg)
log "load average after: $LOAD_AFTER"

# The table. FLOPs per epoch, counted exactly for n = train_size samples, H hidden units:
#   GEMMs of a full step would be 3 per layer (forward, dW, dX): 2·n·(784·H·3 + H·10·3).
#   Neither framework computes dX of the first layer (the data batch needs no gradient), so
#   the work is 2·n·(784·H·2 + H·10·3) = 12.78 GFLOP for n = 20,000, H = 200.
# GEMM-bound efficiency = FLOPs / (measured sgemm GFLOP/s at 64x784x200) / (s/epoch): 1.0
# means the epoch took exactly as long as its GEMMs alone would at the measured rate.
# Penalties add only elementwise work, so the bound is the same for none / l2 / l1.
"$PYTHON" - "$LOGS" "$SGEMM" "$SGEMM_DW" "$SGEMM_DX" "$EPOCHS" "$LOAD_BEFORE" "$LOAD_AFTER" \
  "${OPENBLAS_CORETYPE-(unset)}" "${OPENBLAS_L2_SIZE-(unset)}" >"$RESULTS/compare$SUFFIX.md" <<'EOF'
import json, os, statistics, sys
logs, sgemm, sgemm_dw, sgemm_dx, epochs, load0, load1, coretype, l2size = sys.argv[1:]
sgemm = float(sgemm)

def gemm_flops(n, hidden, inputs=784, classes=10):
    return 2.0 * n * (inputs * hidden * 2 + hidden * classes * 3)

def load(fw, reg):
    r = json.load(open(os.path.join(logs, f"{fw}_{reg}.json")))
    secs = [e["seconds"] for e in r["history"]]
    timed = secs[1:] or secs  # epoch 1 is the warm-up
    r["median"], r["min"] = statistics.median(timed), min(timed)
    return r

step = {}
try:
    for b in json.load(open(os.path.join(logs, "train_step.json")))["benchmarks"]:
        step[b.get("label", "")] = b
except (OSError, ValueError):
    pass

p_none = json.load(open(os.path.join(logs, "pytorch_none.json")))
x_none = json.load(open(os.path.join(logs, "xtgrad_none.json")))
print(f"PyTorch {p_none.get('torch_version')}: torch threads {p_none.get('threads')},"
      f" OpenBLAS threads {p_none.get('blas_threads', '? (reference_pytorch.py without --blas-threads)')},"
      f" OpenBLAS kernels {p_none.get('blas_core')}; xtgrad: OpenBLAS threads 1, kernels {x_none.get('blas_core')}.")
print(f"sgemm 64x784x200, 1 thread: {sgemm:.1f} GFLOP/s (median of 5; dW1 {sgemm_dw}, dX1 {sgemm_dx});"
      f" OPENBLAS_CORETYPE={coretype} OPENBLAS_L2_SIZE={l2size}; {epochs} epochs per run (first = warm-up);"
      f" load average {load0} before, {load1} after (2 cores)")
print()
print("| framework | reg | s/epoch median | s/epoch min | xtgrad/PyTorch | GEMM-bound efficiency | peak RSS MB | test acc |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for reg in ("none", "l2", "l1"):
    x, p = load("xtgrad", reg), load("pytorch", reg)
    flops = gemm_flops(x["train_size"], x["hidden"])
    bound = flops / (sgemm * 1e9)
    for name, r in (("xtgrad", x), ("PyTorch", p)):
        ratio = f"{x['median'] / p['median']:.2f}" if r is x else ""
        print(f"| {name} | {reg} | {r['median']:.3f} | {r['min']:.3f} | {ratio} | {bound / r['median']:.2f} "
              f"| {r['peak_rss_mb']:.0f} | {r['test_accuracy']:.4f} |")
x2, p2 = load("xtgrad", "none_threads2"), load("pytorch", "none_threads2")
x1 = load("xtgrad", "none")
print(f"| xtgrad, 2 threads | none | {x2['median']:.3f} | {x2['min']:.3f} | {x2['median'] / p2['median']:.2f} | "
      f"{flops / (sgemm * 1e9) / x2['median']:.2f} | {x2['peak_rss_mb']:.0f} | {x2['test_accuracy']:.4f} |")
print(f"| PyTorch, 2 threads (torch 2, OpenBLAS 1) | none | {p2['median']:.3f} | {p2['min']:.3f} |  | "
      f"{flops / (sgemm * 1e9) / p2['median']:.2f} | {p2['peak_rss_mb']:.0f} | {p2['test_accuracy']:.4f} |")
print()
print(f"xtgrad --threads 2 / --threads 1 (no penalty): {x2['median'] / x1['median']:.3f}.")
print(f"GEMM work per epoch: {gemm_flops(20000, 200) / 1e9:.2f} GFLOP (n = 20,000, hidden 200; no dX for the"
      f" input batch); GEMM bound at the measured rate: {gemm_flops(20000, 200) / (sgemm * 1e9):.3f} s/epoch.")
for label, b in step.items():
    print(f"xtgrad training step ({label}): {b['real_time'] / 1e3:.0f} µs real, {b['cpu_time'] / 1e3:.0f} µs CPU,"
          f" {b['allocs']:.0f} heap allocations ({b['bytes'] / 1024:.0f} KiB) per step"
          f" [forward {b['allocs_fwd']:.0f}, backward {b['allocs_bwd']:.0f}, optimizer {b['allocs_opt']:.0f}],"
          f" {b['minflt']:.2f} minor page faults per step")
EOF
cat "$RESULTS/compare$SUFFIX.md"

# ---- 5. scaling ---------------------------------------------------------------------------------
if [[ $SCALING == 1 ]]; then
  log "scaling: batch 16/64/256/1024 (hidden 200), hidden 200/800/3200 (batch 64), $SCALING_EPOCHS epochs each"
  for b in 16 64 256 1024; do run_pair "batch$b" --batch-size "$b" --hidden 200 --epochs "$SCALING_EPOCHS"; done
  for h in 200 800 3200; do run_pair "hidden$h" --batch-size 64 --hidden "$h" --epochs "$SCALING_EPOCHS"; done
  "$PYTHON" - "$LOGS" "$SGEMM" >"$RESULTS/scaling.csv" <<'EOF'
import json, os, statistics, sys
logs, sgemm = sys.argv[1], float(sys.argv[2])
print("sweep,batch_size,hidden,framework,seconds_per_epoch,gemm_gflop_per_epoch,gemm_bound_seconds,peak_rss_mb")
# Rows grouped by sweep and framework, so each plotted series is contiguous (gnuplot draws a
# line only between consecutive rows it keeps).
for sweep, tags in (("batch", [f"batch{b}" for b in (16, 64, 256, 1024)]),
                    ("hidden", [f"hidden{h}" for h in (200, 800, 3200)])):
    for fw in ("xtgrad", "pytorch"):
        for tag in tags:
            r = json.load(open(os.path.join(logs, f"{fw}_{tag}.json")))
            secs = [e["seconds"] for e in r["history"]]
            s = statistics.median(secs[1:] or secs)
            n, h = r["train_size"], r["hidden"]
            flops = 2.0 * n * (784 * h * 2 + h * 10 * 3)  # as in the table: no dX for the input batch
            print(f"{sweep},{r['batch_size']},{h},{fw},{s:.5f},{flops / 1e9:.3f},{flops / (sgemm * 1e9):.5f},"
                  f"{r['peak_rss_mb']:.1f}")
EOF
  log "wrote $RESULTS/scaling.csv"
  if command -v gnuplot >/dev/null; then
    gnuplot <<EOF
set datafile separator ','
set terminal pngcairo size 1200,500 noenhanced
set output '$RESULTS/scaling.png'
set multiplot layout 1,2 title 'xtgrad vs PyTorch, 1 thread, 20,000 MNIST samples (sgemm $SGEMM GFLOP/s)'
set logscale xy
set grid
set key top left
set ylabel 'seconds per epoch'
set xlabel 'batch size (hidden 200)'
set key top right
set xtics (16, 64, 256, 1024)
set xrange [10:1600]
plot '$RESULTS/scaling.csv' using (\$2):(strcol(1) eq 'batch' && strcol(4) eq 'xtgrad' ? \$5 : 1/0) with linespoints lw 2 title 'xtgrad', \
     '' using (\$2):(strcol(1) eq 'batch' && strcol(4) eq 'pytorch' ? \$5 : 1/0) with linespoints lw 2 title 'PyTorch', \
     '' using (\$2):(strcol(1) eq 'batch' && strcol(4) eq 'xtgrad' ? \$7 : 1/0) with lines dt 2 title 'GEMM bound'
set xlabel 'hidden units (batch 64)'
set key top left
set xtics (200, 800, 3200)
set xrange [150:4300]
plot '$RESULTS/scaling.csv' using (\$3):(strcol(1) eq 'hidden' && strcol(4) eq 'xtgrad' ? \$5 : 1/0) with linespoints lw 2 title 'xtgrad', \
     '' using (\$3):(strcol(1) eq 'hidden' && strcol(4) eq 'pytorch' ? \$5 : 1/0) with linespoints lw 2 title 'PyTorch', \
     '' using (\$3):(strcol(1) eq 'hidden' && strcol(4) eq 'xtgrad' ? \$7 : 1/0) with lines dt 2 title 'GEMM bound'
unset multiplot
EOF
    log "wrote $RESULTS/scaling.png"
  else
    log "gnuplot not found: skipping $RESULTS/scaling.png (apt install gnuplot-nox)"
  fi
  cat "$RESULTS/scaling.csv"
fi
