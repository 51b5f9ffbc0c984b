#!/usr/bin/env bash
# Ranks against threads on this machine: the seed model (bench/distributed_speed) at each global
# batch, as
#   1x1  1 process, 1 thread       mpirun -np 1 --bind-to none -x XTGRAD_NUM_THREADS=1
#   1x2  1 process, 2 threads      mpirun -np 1 --map-by ppr:1:node:pe=2 -x XTGRAD_NUM_THREADS=2
#   2x1  2 ranks, 1 thread each    mpirun -np 2 -x XTGRAD_NUM_THREADS=1
# interleaved: every round runs every (batch, setup) once, in that order, so that a change in
# the machine's load hits all of them alike; the 1-minute load average (uptime) is recorded
# beside each run. Every setup may run on both cores: a plain `mpirun -np 1` would bind its rank
# to core 0 (2 threads would share it, and 1 thread could not move off a core that other work
# holds); 2x1's ranks are bound to a core each and widened again by MpiCommunicator (its
# `automatic` affinity: 2 ranks fill 2 cores).
#
#   bench/distributed_threads.sh [--data DIR] [--epochs N] [--rounds R] [--batches "64 256 1024"] [--build DIR]
#
# Writes bench/results/distributed_threads/runs.jsonl (one line per run: setup, round, load,
# and distributed_speed's JSON) and prints a table: median s/epoch over the rounds (range in
# brackets), speedups over 1x1, and the load average over the runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=build
DATA=${XTGRAD_MNIST_DIR:-data/mnist}
EPOCHS=4
ROUNDS=3
BATCHES="64 256 1024"

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --batches) BATCHES=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "distributed_threads.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$EPOCHS" =~ ^[1-9][0-9]*$ && "$ROUNDS" =~ ^[1-9][0-9]*$ ]] ||
  { echo "distributed_threads.sh: --epochs and --rounds must be positive integers" >&2; exit 2; }
[[ -d "$DATA" ]] || { echo "distributed_threads.sh: no MNIST folder '$DATA' (scripts/fetch_mnist.sh fetches it)" >&2; exit 3; }
command -v mpirun >/dev/null || { echo "distributed_threads.sh: no mpirun" >&2; exit 3; }

cmake --build "$BUILD" --target distributed_speed >/dev/null
BIN="$BUILD/bench/distributed_speed"
OUT=bench/results/distributed_threads
mkdir -p "$OUT"
rm -f "$OUT/runs.jsonl"

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # as root (containers); harmless otherwise
declare -A LAUNCH=(
  [1x1]="-np 1 --bind-to none -x XTGRAD_NUM_THREADS=1"
  [1x2]="-np 1 --map-by ppr:1:node:pe=2 -x XTGRAD_NUM_THREADS=2"
  [2x1]="-np 2 -x XTGRAD_NUM_THREADS=1"
)
SETUPS="1x1 1x2 2x1"

log() { echo "[distributed_threads.sh $(date +%H:%M:%S)] $*" >&2; }
log "$(nproc --all) cores; $(mpirun --version | head -1); load: $(uptime | sed 's/.*load average: //')"
for ((round = 1; round <= ROUNDS; ++round)); do
  for B in $BATCHES; do
    for S in $SETUPS; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      # shellcheck disable=SC2086  # LAUNCH holds several words
      line=$(mpirun ${LAUNCH[$S]} "$BIN" --data "$DATA" --epochs "$EPOCHS" --batch-size "$B" | tail -n 1)
      echo "{\"setup\": \"$S\", \"round\": $round, \"load1\": $load, \"run\": $line}" >>"$OUT/runs.jsonl"
      log "round $round, batch $B, $S: $(sed 's/.*"seconds_per_epoch":\([0-9.]*\).*/\1/' <<<"$line") s/epoch, load $load"
    done
  done
done
log "load after: $(uptime | sed 's/.*load average: //')"

python3 - "$OUT" "$SETUPS" <<'PY' | tee "$OUT/table.md"
import json, os, statistics, sys
out, setups = sys.argv[1], sys.argv[2].split()
runs = [json.loads(l) for l in open(os.path.join(out, "runs.jsonl"))]
loads = [r["load1"] for r in runs]
print(f"Seed model, 20,000 MNIST images, s/epoch: median over {max(r['round'] for r in runs)} interleaved rounds "
      f"[min-max]; 1-minute load average during the runs {min(loads):.1f}-{max(loads):.1f} (median {statistics.median(loads):.1f})\n")
print("| global batch | " + " | ".join(f"{s} (ranks×threads)" for s in setups) + " | 1x2 speedup | 2x1 speedup | load |")
print("|---:|" + "---:|" * (len(setups) + 3))
for b in sorted({r["run"]["batch_size"] for r in runs}):
    t, cell = {}, {}
    for s in setups:
        v = sorted(r["run"]["seconds_per_epoch"] for r in runs if r["setup"] == s and r["run"]["batch_size"] == b)
        threads = {r["run"]["threads"] for r in runs if r["setup"] == s and r["run"]["batch_size"] == b}
        t[s] = statistics.median(v)
        cell[s] = f"{t[s]:.3f} [{v[0]:.3f}-{v[-1]:.3f}]" + ("" if threads == {int(s[-1])} else f" (threads {threads}!)")
    bl = [r["load1"] for r in runs if r["run"]["batch_size"] == b]
    print(f"| {b} | " + " | ".join(cell[s] for s in setups) +
          f" | {t['1x1'] / t['1x2']:.2f}× | {t['1x1'] / t['2x1']:.2f}× | {min(bl):.1f}-{max(bl):.1f} |")
PY
