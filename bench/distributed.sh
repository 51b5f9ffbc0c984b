#!/usr/bin/env bash
# Data-parallel scaling of the seed model on this machine, xtgrad over MPI beside PyTorch DDP.
#
#   bench/distributed.sh [--data DIR] [--epochs N] [--batches "64 256 1024"] [--build DIR] [--load]
#
# 1. Builds bench/distributed_speed in BUILD (default build/, configured as the README says).
# 2. Allreduce microbenchmark on 2 ranks: 4 KiB .. 64 MiB of floats and the seed model's
#    636,040 bytes: median time, algbw, busbw.
# 3. For each global batch: xtgrad on 1 rank (plain nn::fit) and on 2 ranks, overlapped and
#    not (DistributedDataParallel, bucket 1 MiB); xtgrad on 1 rank at half the batch (the
#    compute term of the cost model); PyTorch on 1 process and with DDP (gloo) on 2. One
#    thread per rank everywhere (OMP/OpenBLAS/torch); mpirun binds ranks to cores and
#    xtgrad's communicator widens them again (MpiOptions::affinity, automatic: 2 ranks fill 2 cores). N epochs each
#    (default 4: 1 warm-up + 3 timed; the median is reported).
# 4. Prints a markdown table (also bench/results/distributed/table.md; raw JSON lines in
#    *.jsonl beside it): s/epoch, speedup = t(1 rank) / t(2 ranks), efficiency = speedup / 2,
#    and test accuracy.
# 5. The regularization path: the app's --sweep l2 (none + 5 lambdas = 6 runs, SWEEP_EPOCHS
#    epochs each, default 20 as the app's runs) on 1 rank and on 2 ranks (each rank trains whole runs): wall
#    seconds and speedup.
#
# --load: one busy process (a shell loop) competes for the cores during the whole run, as other
# work on a shared machine does; results go to bench/results/distributed_load/.
#
# The machine is shared: the load average is printed before and after. Two ranks need two
# idle cores; with other work running, a rank that busy-polls for a descheduled peer burns the
# time slice that peer needs, which xtgrad's waits avoid (MpiOptions in mpi_communicator.hpp).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=build
DATA=${XTGRAD_MNIST_DIR:-data/mnist}
EPOCHS=4
BATCHES="64 256 1024"
SWEEP_EPOCHS=20  # the app's default run length
PYTHON=/usr/bin/python3  # Debian's torch is importable from the system python only
LOAD=0

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --batches) BATCHES=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --sweep-epochs) SWEEP_EPOCHS=$2; shift 2 ;;
    --load) LOAD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "distributed.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$EPOCHS" =~ ^[1-9][0-9]*$ ]] || { echo "distributed.sh: --epochs must be a positive integer" >&2; exit 2; }
[[ -d "$DATA" ]] || { echo "distributed.sh: no MNIST folder '$DATA' (scripts/fetch_mnist.sh fetches it)" >&2; exit 3; }
command -v mpirun >/dev/null || { echo "distributed.sh: no mpirun (scripts/install_deps.sh installs OpenMPI)" >&2; exit 3; }
HAVE_TORCH=1
"$PYTHON" -c 'import torch.distributed as d; assert d.is_gloo_available()' 2>/dev/null || {
  HAVE_TORCH=0; echo "distributed.sh: $PYTHON cannot import torch with gloo (scripts/install_deps.sh python3-torch): PyTorch columns skipped" >&2; }

cmake --build "$BUILD" --target distributed_speed mnist_regularization >/dev/null
BIN="$BUILD/bench/distributed_speed"
APP="$BUILD/apps/mnist_regularization/mnist_regularization"
OUT=bench/results/distributed
if ((LOAD)); then OUT+=_load; fi
mkdir -p "$OUT"
rm -f "$OUT"/*.jsonl

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 XTGRAD_NUM_THREADS=1  # one thread per rank (distributed_threads.sh varies it)
# Open MPI refuses to start as root without these (containers, CI); harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun)

log() { echo "[distributed.sh $(date +%H:%M:%S)] $*" >&2; }
if ((LOAD)); then
  (while :; do :; done) &
  load_pid=$!
  trap 'kill "$load_pid" 2>/dev/null' EXIT
  log "--load: busy process $load_pid competes for the cores until the end"
fi
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc --all) cores; $(mpirun --version | head -1)"

log "allreduce microbenchmark, 2 ranks"
"${MPIRUN[@]}" -np 2 "$BIN" --allreduce | grep '^{' >"$OUT/allreduce.jsonl"

for B in $BATCHES; do
  COMMON=(--data "$DATA" --epochs "$EPOCHS")
  log "batch $B: xtgrad 1 rank"
  "${MPIRUN[@]}" -np 1 "$BIN" "${COMMON[@]}" --batch-size "$B" | tail -n 1 >>"$OUT/xtgrad.jsonl"
  log "batch $B: xtgrad 2 ranks, overlapped"
  "${MPIRUN[@]}" -np 2 "$BIN" "${COMMON[@]}" --batch-size "$B" | tail -n 1 >>"$OUT/xtgrad.jsonl"
  log "batch $B: xtgrad 2 ranks, not overlapped"
  "${MPIRUN[@]}" -np 2 "$BIN" "${COMMON[@]}" --batch-size "$B" --no-overlap | tail -n 1 >>"$OUT/xtgrad.jsonl"
  log "batch $((B / 2)): xtgrad 1 rank (compute of one rank's shard)"
  "${MPIRUN[@]}" -np 1 "$BIN" "${COMMON[@]}" --batch-size "$((B / 2))" | tail -n 1 >>"$OUT/half.jsonl"
  if ((HAVE_TORCH)); then
    for R in 1 2; do
      log "batch $B: PyTorch $R process(es)"
      "$PYTHON" bench/distributed_pytorch.py --data "$DATA" --epochs "$EPOCHS" --batch-size "$B" --ranks "$R" \
        | tail -n 1 >>"$OUT/pytorch.jsonl"
    done
  fi
done
for R in 1 2; do
  log "sweep: --sweep l2 (6 runs), $SWEEP_EPOCHS epochs, $R rank(s)"
  start=$(date +%s.%N)
  "${MPIRUN[@]}" -np "$R" "$APP" --data "$DATA" --sweep l2 --epochs "$SWEEP_EPOCHS" --quiet --no-plots \
    --out "$OUT/sweep_$R" >/dev/null
  echo "{\"ranks\": $R, \"seconds\": $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')}" >>"$OUT/sweep.jsonl"
done
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PYTHON" - "$OUT" <<'PY' | tee "$OUT/table.md"
import json, sys, os
out = sys.argv[1]
def rows(name):
    path = os.path.join(out, name)
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []
xt, half, pt, ar = rows("xtgrad.jsonl"), rows("half.jsonl"), rows("pytorch.jsonl"), rows("allreduce.jsonl")
sw = rows("sweep.jsonl")

print("Allreduce, 2 ranks (Open MPI, shared memory): median of repeats\n")
print("| bytes | µs | algbw GB/s | busbw GB/s |")
print("|---:|---:|---:|---:|")
for r in ar:
    print(f"| {r['allreduce_bytes']:,} | {r['microseconds']:.1f} | {r['algbw_GBps']:.2f} | {r['busbw_GBps']:.2f} |")

print("\nSeed model, 20,000 MNIST images, s/epoch (median of the timed epochs); speedup = 1 rank / 2 ranks\n")
print("| global batch | xtgrad 1 rank | xtgrad 2 ranks overlapped | speedup | efficiency | xtgrad 2 ranks not overlapped | speedup | PyTorch 1 | PyTorch DDP 2 | speedup | xtgrad 1 rank at B/2 | accuracy xtgrad 1 / 2 / PyTorch 2 |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
csv = open(os.path.join(out, "speedup.csv"), "w")
csv.write("batch,xtgrad_overlapped,xtgrad_not_overlapped,pytorch_ddp\n")
for b in sorted({r["batch_size"] for r in xt}):
    one = next(r for r in xt if r["batch_size"] == b and r["ranks"] == 1)
    ov = next(r for r in xt if r["batch_size"] == b and r["ranks"] == 2 and r["overlap"])
    no = next(r for r in xt if r["batch_size"] == b and r["ranks"] == 2 and not r["overlap"])
    h = next((r for r in half if r["batch_size"] == b // 2), None)
    p1 = next((r for r in pt if r["batch_size"] == b and r["ranks"] == 1), None)
    p2 = next((r for r in pt if r["batch_size"] == b and r["ranks"] == 2), None)
    t1, to, tn = one["seconds_per_epoch"], ov["seconds_per_epoch"], no["seconds_per_epoch"]
    f = lambda r: f"{r['seconds_per_epoch']:.3f}" if r else "–"
    ps = f"{p1['seconds_per_epoch'] / p2['seconds_per_epoch']:.2f}×" if p1 and p2 else "–"
    acc = f"{one['test_accuracy']:.4f} / {ov['test_accuracy']:.4f} / " + (f"{p2['test_accuracy']:.4f}" if p2 else "–")
    csv.write(f"{b},{t1 / to:.4f},{t1 / tn:.4f},{p1['seconds_per_epoch'] / p2['seconds_per_epoch'] if p1 and p2 else float('nan'):.4f}\n")
    print(f"| {b} | {t1:.3f} | {to:.3f} | {t1 / to:.2f}× | {t1 / to / 2:.0%} | {tn:.3f} | {t1 / tn:.2f}× | "
          f"{f(p1)} | {f(p2)} | {ps} | {f(h)} | {acc} |")
if len(sw) == 2:
    print(f"\nRegularization path (--sweep l2, 6 runs): 1 rank {sw[0]['seconds']:.1f} s, 2 ranks {sw[1]['seconds']:.1f} s, "
          f"speedup {sw[0]['seconds'] / sw[1]['seconds']:.2f}×")
PY

echo
"$PYTHON" bench/distributed_model.py "$OUT" | tee "$OUT/model.md"

if command -v gnuplot >/dev/null; then
  gnuplot <<GP
set datafile separator ','
set terminal pngcairo size 800,480 noenhanced
set output '$OUT/speedup.png'
set title 'Seed model, 2 ranks vs 1 (1 thread each), 20,000 MNIST images'
set logscale x 2
set xtics (64, 256, 1024)
set xrange [48:1400]
set yrange [0:*]
set grid
set key bottom right
set xlabel 'global batch'
set ylabel 'speedup (s/epoch on 1 / on 2)'
plot 2 with lines dt 2 lc 'gray' title 'ideal', \
     '$OUT/speedup.csv' using 1:2 skip 1 with linespoints lw 2 title 'xtgrad, overlapped', \
     '' using 1:3 skip 1 with linespoints lw 2 title 'xtgrad, not overlapped', \
     '' using 1:4 skip 1 with linespoints lw 2 title 'PyTorch DDP (gloo)'
GP
  log "wrote $OUT/speedup.png"
else
  log "gnuplot not found: skipping $OUT/speedup.png (apt install gnuplot-nox)"
fi
