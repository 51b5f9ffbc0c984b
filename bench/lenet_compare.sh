#!/usr/bin/env bash
# LeNet-5 on MNIST, xtgrad (bench/lenet_speed) against PyTorch (bench/lenet_pytorch.py), the
# same model and training, one thread each (OpenBLAS and torch), run alternately ROUNDS times.
# Prints each run's JSON line, then a table of seconds per epoch (median of the epochs after
# the first; wall time of the training pass, and process CPU time of training + evaluation,
# which other processes on the same cores disturb less) and test accuracy.
#
# Usage: bench/lenet_compare.sh MNIST_DIR [EPOCHS=3] [TRAIN_SIZE=60000] [ROUNDS=2]
#        (env BUILD=build: where lenet_speed was built; PYTHON=/usr/bin/python3)
set -euo pipefail

DATA=${1:?usage: bench/lenet_compare.sh MNIST_DIR [EPOCHS] [TRAIN_SIZE] [ROUNDS]}
EPOCHS=${2:-3}
TRAIN_SIZE=${3:-60000}
ROUNDS=${4:-2}
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)

[[ -x "$BUILD/bench/lenet_speed" ]] || { echo "lenet_compare: $BUILD/bench/lenet_speed not built (cmake --build $BUILD --target lenet_speed)" >&2; exit 2; }
"$PYTHON" -c 'import torch' 2>/dev/null || { echo "lenet_compare: $PYTHON cannot import torch (apt install python3-torch)" >&2; exit 3; }

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
for ((round = 1; round <= ROUNDS; ++round)); do
  "$BUILD/bench/lenet_speed" --data "$DATA" --epochs "$EPOCHS" --train-size "$TRAIN_SIZE" --threads 1 | tee -a "$OUT"
  "$PYTHON" "$HERE/lenet_pytorch.py" --data "$DATA" --epochs "$EPOCHS" --train-size "$TRAIN_SIZE" --threads 1 | tee -a "$OUT"
done
"$PYTHON" - "$OUT" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
print(f"\n{'framework':<10} {'runs':>4} {'s/epoch (wall)':>15} {'CPU s/epoch (+eval)':>20} {'test accuracy':>14}")
for fw in ("xtgrad", "pytorch"):
    mine = [r for r in runs if r["framework"] == fw]
    if mine:
        med = lambda key: statistics.median(r[key] for r in mine)
        print(f"{fw:<10} {len(mine):>4} {med('seconds_per_epoch'):>15.3f} "
              f"{med('cpu_seconds_per_epoch_with_eval'):>20.3f} {med('test_accuracy'):>14.4f}")
PY
