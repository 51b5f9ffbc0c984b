#!/usr/bin/env bash
# mnist_regularization under mpirun: 2 ranks train the same models as 1 process (data-parallel,
# and --sweep with whole runs per rank), ranks that
# disagree on the flags stop with exit 2, a rank killed mid-training ends the whole job
# non-zero within 60 s, SIGTERM to mpirun stops every rank cleanly at the same batch (each rank
# exits 143 as the app does alone; mpirun itself then exits 1, Open MPI's choice).
# Usage: app_mpi_test.sh APP_BINARY MNIST_DIR MPIEXEC [MPIEXEC_FLAGS...]
# Every case needs MNIST; without it the test is skipped (ctest: exit 77).
set -u

app=${1:?usage: app_mpi_test.sh APP_BINARY MNIST_DIR MPIEXEC [FLAGS...]}
mnist=${2:?}
shift 2
mpirun=("$@")
passed=0 failed=0

[[ -f "$mnist/train-images-idx3-ubyte" || -f "$mnist/train-images-idx3-ubyte.gz" ]] || {
  echo "skip: no MNIST in $mnist"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtgrad_mpi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; shift; for line in "$@"; do echo "       $line"; done; }
small=(--data "$mnist" --train-size 2000 --epochs 2 --quiet --no-plots)

# Accuracies of none / l2 / l1 from a run's final table: "name gradient acc ...".
accuracies() { awk '/^(none|l2|l1)/ {print $1, $3}' "$1"; }

"$app" "${small[@]}" --out "$tmp/one" >"$tmp/one.txt" 2>&1
"${mpirun[@]}" -np 2 "$app" "${small[@]}" --out "$tmp/two" >"$tmp/two.txt" 2>"$tmp/two.err"
rc=$?
one=$(accuracies "$tmp/one.txt")
two=$(accuracies "$tmp/two.txt")
if [[ $rc -ne 0 || -z $one ]]; then
  fail "2 ranks train like 1 process" "exit $rc" "$(head -c 600 "$tmp/two.err")"
else
  # ±0.002 per regularizer (float summation order differs).
  if paste <(echo "$one") <(echo "$two") | awk '{d = $2 - $4; if (d < 0) d = -d; if ($1 != $3 || d > 0.002) bad = 1} END {exit bad}'; then
    pass "2 ranks train like 1 process: $(echo $two)"
  else
    fail "2 ranks train like 1 process" "1 process: $(echo $one)" "2 ranks:   $(echo $two)"
  fi
fi
if grep -q '"ranks": 2' "$tmp/two/summary.json" 2>/dev/null && grep -q '"batch_per_rank": 32' "$tmp/two/summary.json"; then
  pass "rank 0 wrote summary.json with the ranks and the per-rank batch"
else
  fail "summary.json" "missing, or without \"ranks\": 2 and \"batch_per_rank\": 32"
fi

# --sweep over 2 ranks: each trains whole runs; rank 0's sweep.csv is the single process's.
sweep=(--data "$mnist" --train-size 2000 --epochs 2 --quiet --no-plots --sweep l2 --lambdas 1e-4,1e-3)
"$app" "${sweep[@]}" --out "$tmp/sweep1" >/dev/null 2>&1
"${mpirun[@]}" -np 2 "$app" "${sweep[@]}" --out "$tmp/sweep2" >/dev/null 2>"$tmp/sweep.err"
rc=$?
if [[ $rc -eq 0 && -s "$tmp/sweep1/sweep.csv" ]] && cmp -s "$tmp/sweep1/sweep.csv" "$tmp/sweep2/sweep.csv"; then
  pass "--sweep over 2 ranks: sweep.csv identical to one process's"
else
  fail "--sweep over 2 ranks" "exit $rc" "$(head -c 600 "$tmp/sweep.err")"
fi

# Different flags on the two ranks (MPMD syntax): exit 2, the message on stderr.
"${mpirun[@]}" -np 1 "$app" "${small[@]}" --out "$tmp/mm" --lr 0.1 : -np 1 "$app" "${small[@]}" --out "$tmp/mm" --lr 0.2 \
  >/dev/null 2>"$tmp/mm.err"
rc=$?
if [[ $rc -eq 2 ]] && grep -q "the ranks disagree on the flags" "$tmp/mm.err"; then
  pass "flag mismatch: exit 2 and a clear error"
else
  fail "flag mismatch" "exit $rc" "$(head -c 600 "$tmp/mm.err")"
fi

# A rank killed mid-training: the job ends, non-zero, within 60 s.
long=(--data "$mnist" --epochs 50 --quiet --no-plots)
"${mpirun[@]}" -np 2 "$app" "${long[@]}" --out "$tmp/kill" >/dev/null 2>"$tmp/kill.err" &
job=$!
victim=
for _ in $(seq 1 100); do
  victim=$(pgrep -P "$job" -f mnist_regularization | tail -n 1)
  [[ -n $victim ]] && break
  sleep 0.1
done
sleep 3
kill -9 "$victim" 2>/dev/null
start=$SECONDS
while kill -0 "$job" 2>/dev/null && ((SECONDS - start < 60)); do sleep 0.5; done
if kill -0 "$job" 2>/dev/null; then
  kill -9 "$job"
  fail "killed rank" "the job still ran 60 s after rank $victim was killed"
else
  wait "$job"
  rc=$?
  [[ $rc -ne 0 ]] && pass "killed rank: the job ended in $((SECONDS - start)) s with exit $rc" ||
    fail "killed rank" "exit 0"
fi

# SIGTERM to mpirun: it forwards SIGTERM; every rank stops at the same batch with the app's
# one-line message (exit 143); mpirun exits non-zero.
"${mpirun[@]}" -np 2 "$app" "${long[@]}" --out "$tmp/term" >/dev/null 2>"$tmp/term.err" &
job=$!
sleep 4
kill -TERM "$job"
start=$SECONDS
while kill -0 "$job" 2>/dev/null && ((SECONDS - start < 60)); do sleep 0.5; done
if kill -0 "$job" 2>/dev/null; then
  kill -9 "$job"
  fail "SIGTERM" "still running 60 s after SIGTERM"
else
  wait "$job"
  rc=$?
  stopped=$(grep -c "interrupted by SIGTERM" "$tmp/term.err")
  batches=$(grep -o "interrupted by SIGTERM in epoch [0-9]*" "$tmp/term.err" | sort -u | wc -l)
  if [[ $rc -ne 0 && $stopped -eq 2 && $batches -eq 1 ]]; then
    pass "SIGTERM: both ranks stopped in the same epoch, job exit $rc after $((SECONDS - start)) s"
  else
    fail "SIGTERM" "exit $rc, $stopped ranks reported the stop" "$(head -c 600 "$tmp/term.err")"
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
