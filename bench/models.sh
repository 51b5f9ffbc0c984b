#!/usr/bin/env bash
# Four models trained in xtgrad and in libtorch (issue 21), timed in one run on this machine:
# the seed MLP and LeNet-5 on MNIST, a batch-norm CNN on Fashion-MNIST, a char transformer.
# Both programs (bench/models_xtgrad.cpp, bench/models_libtorch.cpp) use the same data,
# batches, initial weights, optimiser and step counts and print one JSON line each.
#
#   bench/models.sh [ROUNDS=2] [--quick]
#
# For each round, for 1 and $(nproc) threads, for each model: xtgrad, then libtorch, then
# PyTorch (python3-torch: bench/reference_pytorch.py and bench/lenet_pytorch.py, MLP and
# LeNet only; their s/step is the median timed epoch's seconds over its steps), each run with
# the 1-minute load average read just before it; before each round and after the last,
# bench/cpu_capacity measures what each CPU delivers alone and all at once (models-cpu.jsonl),
# the ceiling of an N/1 speedup at that moment. Writes bench/results/models.md (table),
# models.png (gnuplot: xtgrad/libtorch per model, 1 and N threads, targets 0.8 and 0.7) and
# models.jsonl (every run). --quick: few steps, to check that everything runs.
#
# Threads: xtgrad --threads N with OPENBLAS_NUM_THREADS=1 (xtgrad splits its own work);
# libtorch at::set_num_threads(N), interop 1, and OPENBLAS_NUM_THREADS=N (so its 1-thread
# rows use one core: Debian's torch calls OpenBLAS, whose own pool ignores set_num_threads);
# PyTorch torch.set_num_threads(N) and OpenBLAS N. libtorch's OpenMP threads spin while they
# wait: on a loaded machine (load > cores) its N-thread steps can be tens of times slower
# (seen here at load 9: 55 ms instead of 1 ms per MLP step; OMP_WAIT_POLICY=passive, which
# this script passes through but does not set, gave 1 ms).
#
# After the rounds, one more pass at 1 thread with bench/libsgemm_clock.so preloaded: the time
# each program spends inside OpenBLAS's sgemm, which both call with the same shapes, and so the
# time each spends outside it (models-sgemm.jsonl; the report's last table).
#
# Builds nothing: env BUILD (default build-bench) must hold bench/models_xtgrad,
# bench/models_libtorch, bench/cpu_capacity and bench/libsgemm_clock.so. Data: XTGRAD_MNIST_DIR (default data/mnist), XTGRAD_FASHION_DIR
# (/usr/share/datasets/fashion-mnist), XTGRAD_TEXT (/usr/share/common-licenses/GPL-3);
# PYTHON (default /usr/bin/python3, Debian's, which has torch).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROUNDS=2
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) [[ "$arg" =~ ^[1-9][0-9]*$ ]] || { echo "models.sh: ROUNDS must be a positive integer, not '$arg'" >&2; exit 2; }
       ROUNDS=$arg ;;
  esac
done
BUILD=${BUILD:-build-bench}
PYTHON=${PYTHON:-/usr/bin/python3}
export XTGRAD_MNIST_DIR=${XTGRAD_MNIST_DIR:-data/mnist}
export XTGRAD_FASHION_DIR=${XTGRAD_FASHION_DIR:-/usr/share/datasets/fashion-mnist}
export XTGRAD_TEXT=${XTGRAD_TEXT:-/usr/share/common-licenses/GPL-3}
XT=$BUILD/bench/models_xtgrad
LT=$BUILD/bench/models_libtorch
PROBE=$BUILD/bench/cpu_capacity

for target in models_xtgrad models_libtorch cpu_capacity libsgemm_clock.so; do
  [[ -f $BUILD/bench/$target ]] || {
    echo "models.sh: $BUILD/bench/$target is missing: cmake --build $BUILD --target $target" \
         "(a Release configure; models_libtorch needs libtorch-dev)" >&2; exit 2; }
done
SGEMM_CLOCK=$(cd "$BUILD/bench" && pwd)/libsgemm_clock.so   # LD_PRELOAD wants an absolute path
[[ -d $XTGRAD_MNIST_DIR ]] || { echo "models.sh: no MNIST folder '$XTGRAD_MNIST_DIR' (XTGRAD_MNIST_DIR)" >&2; exit 3; }
[[ -d $XTGRAD_FASHION_DIR ]] || { echo "models.sh: no Fashion-MNIST folder '$XTGRAD_FASHION_DIR' (XTGRAD_FASHION_DIR)" >&2; exit 3; }
[[ -f $XTGRAD_TEXT ]] || { echo "models.sh: no text '$XTGRAD_TEXT' (XTGRAD_TEXT)" >&2; exit 3; }
HAVE_PYTORCH=1
"$PYTHON" -c 'import torch' 2>/dev/null || { HAVE_PYTORCH=0; echo "models.sh: $PYTHON cannot import torch: no PyTorch column" >&2; }

MODELS=(mlp lenet bn_cnn transformer)
NPROC=$(nproc)
THREADS=(1); [[ $NPROC -gt 1 ]] && THREADS+=("$NPROC")
declare -A STEPS=()
if [[ $QUICK == 1 ]]; then
  STEPS=([mlp]="--warmup 10 --steps 40" [lenet]="--warmup 2 --steps 10" [bn_cnn]="--warmup 1 --steps 4"
         [transformer]="--warmup 1 --steps 5")
  PY_MLP=(--epochs 2 --train-size 3200) PY_LENET=(--epochs 2 --train-size 640)
else
  STEPS=([mlp]="" [lenet]="" [bn_cnn]="" [transformer]="")   # each program's defaults (bench/models/args.hpp)
  PY_MLP=(--epochs 3 --train-size 20000) PY_LENET=(--epochs 3 --train-size 6400)
fi

RESULTS=bench/results
LOGS=$BUILD/models-logs
mkdir -p "$RESULTS" "$LOGS"
RUNS=$RESULTS/models.jsonl
CPUS=$RESULTS/models-cpu.jsonl   # cpu_capacity before each round and after the last
SGEMM=$RESULTS/models-sgemm.jsonl   # the 1-thread pass with sgemm clocked
: >"$RUNS"
: >"$CPUS"
: >"$SGEMM"
log() { echo "[models] $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# probe WHEN: what each CPU delivers now, alone and all at once (bench/cpu_capacity.cpp).
probe() {
  local line; line=$("$PROBE") || { echo "models.sh: $PROBE failed" >&2; exit 1; }
  echo "{\"when\": \"$1\", \"load1\": $(load1), \"probe\": $line}" >>"$CPUS"
  log "cpu capacity $1: $line"
}

# run FRAMEWORK MODEL THREADS COMMAND...: the command's last JSON line, with the load added.
run() {
  local fw=$1 model=$2 threads=$3; shift 3
  local load; load=$(load1)
  local out=$LOGS/$fw-$model-$threads-r$round.log
  if ! "$@" >"$out" 2>"$out.err"; then
    echo "models.sh: $fw $model --threads $threads failed:" >&2; tail -5 "$out.err" >&2; exit 1
  fi
  local line; line=$(grep '^{' "$out" | tail -1)
  echo "{\"load1\": $load, \"fw\": \"$fw\", \"m\": \"$model\", \"t\": $threads, \"run\": $line}" >>"${OUT:-$RUNS}"
  log "$fw $model threads $threads (load $load): $(echo "$line" | cut -c1-150)"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $LOAD_BEFORE ($NPROC cores); rounds $ROUNDS, quick $QUICK"
for ((round = 1; round <= ROUNDS; ++round)); do
  probe "before round $round"
  for t in "${THREADS[@]}"; do
    for m in "${MODELS[@]}"; do
      # shellcheck disable=SC2086  # STEPS holds separate flags
      run xtgrad "$m" "$t" env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$XT" --model "$m" --threads "$t" ${STEPS[$m]}
      run libtorch "$m" "$t" env OPENBLAS_NUM_THREADS="$t" "$LT" --model "$m" --threads "$t" ${STEPS[$m]}
      [[ $HAVE_PYTORCH == 1 ]] || continue
      case "$m" in
        mlp) run pytorch mlp "$t" env OPENBLAS_NUM_THREADS="$t" "$PYTHON" bench/reference_pytorch.py \
               --data "$XTGRAD_MNIST_DIR" --reg none --threads "$t" "${PY_MLP[@]}" ;;
        lenet) run pytorch lenet "$t" env OPENBLAS_NUM_THREADS="$t" "$PYTHON" bench/lenet_pytorch.py \
                 --data "$XTGRAD_MNIST_DIR" --threads "$t" "${PY_LENET[@]}" ;;
      esac
    done
  done
done
probe "after the last round"
round=sgemm
for m in "${MODELS[@]}"; do
  # shellcheck disable=SC2086
  OUT=$SGEMM run xtgrad "$m" 1 env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 LD_PRELOAD="$SGEMM_CLOCK" \
    "$XT" --model "$m" --threads 1 ${STEPS[$m]}
  # shellcheck disable=SC2086
  OUT=$SGEMM run libtorch "$m" 1 env OPENBLAS_NUM_THREADS=1 LD_PRELOAD="$SGEMM_CLOCK" \
    "$LT" --model "$m" --threads 1 ${STEPS[$m]}
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average after: $LOAD_AFTER"

# libtorch's build and thread setup, as its first run printed them (torch::show_config and
# at::get_parallel_info on stderr), and the BLAS its libblas.so.3 resolves to.
TORCH_ERR="$LOGS/libtorch-mlp-1-r1.log.err"
TORCH_CONFIG="$( { grep -o -E 'BLAS_INFO=[^,]*|USE_MKLDNN=[^,]*|USE_OPENMP=[^,]*|ATen parallel backend: .*|MKL not found|MKL-DNN v[0-9.]*' "$TORCH_ERR" || true; } | sort -u | tr '\n' ';' | sed 's/;$//; s/;/, /g')"
BLAS_LIB=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)
TORCH_CONFIG="$TORCH_CONFIG, libblas.so.3 = $BLAS_LIB, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"

"$PYTHON" bench/models_report.py "$RUNS" "$RESULTS/models.md" "$RESULTS/models.dat" --cpus "$CPUS" --sgemm "$SGEMM" \
  --rounds "$ROUNDS" --quick "$QUICK" --load-before "$LOAD_BEFORE" --load-after "$LOAD_AFTER" \
  --torch-config "$TORCH_CONFIG" --text "$XTGRAD_TEXT" --nproc "$NPROC"
cat "$RESULTS/models.md"

if command -v gnuplot >/dev/null; then
  gnuplot -e "datafile='$RESULTS/models.dat'; outfile='$RESULTS/models.png'; nthreads=$NPROC" bench/models.gp &&
    log "wrote $RESULTS/models.png"
else
  log "gnuplot not found: no models.png"
fi
