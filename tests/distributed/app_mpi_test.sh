#!/usr/bin/env bash
# mnist_regularization under mpirun: 2 ranks train the same models as 1 process (data-parallel,
# and --sweep with whole runs per rank), a 2-rank run checkpointed and resumed ends bit-identical
# to an uninterrupted one, ranks that
# disagree on the flags stop with exit 2 (on the data too), a rank killed mid-training ends the whole job
# non-zero within 60 s, SIGTERM to mpirun stops every rank cleanly at the same batch (each rank
# exits 143 as the app does alone; mpirun itself then exits 1, Open MPI's choice).
# Usage: app_mpi_test.sh APP_BINARY MNIST_DIR MPIEXEC [MPIEXEC_FLAGS...]
# Every case needs MNIST; without it the test is skipped (ctest: exit 77).
set -u

source "$(dirname "${BASH_SOURCE[0]}")/app_test_setup.sh" "$@"
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
# --sweep --prune over 2 ranks: the runs rank 1 trained reach rank 0 with their pruned models;
# rank 0 writes each run's "pruned" and pruned-<k>.npz, the same as one process writes.
pruning=(--data "$mnist" --train-size 512 --epochs 1 --quiet --no-plots --threads 1 --prune
         --sweep 'group_lasso(mode=prox)' --lambdas 0.05,0.02)
"$app" "${pruning[@]}" --out "$tmp/prune1" >/dev/null 2>&1
"${mpirun[@]}" -np 2 "$app" "${pruning[@]}" --out "$tmp/prune2" >/dev/null 2>"$tmp/prune.err"
rc=$?
if [[ $rc -eq 0 ]] && python3 - "$tmp/prune1" "$tmp/prune2" <<'PY'
import json, sys, zipfile
one, two = sys.argv[1:3]
runs = [json.load(open(d + "/summary.json"))["runs"] for d in (one, two)]
assert len(runs[1]) == 3, len(runs[1])  # none and the two lambdas
for k, (a, b) in enumerate(zip(*runs), 1):
    assert "pruned" in b, f"run {k}: no pruned object"
    for key in ("hidden_units", "parameters", "test_accuracy", "changed_predictions"):
        assert a["pruned"][key] == b["pruned"][key], (k, key, a["pruned"][key], b["pruned"][key])
    za, zb = (zipfile.ZipFile(f"{d}/pruned-{k}.npz") for d in (one, two))
    assert sorted(za.namelist()) == sorted(zb.namelist()), (za.namelist(), zb.namelist())
    for name in za.namelist():
        assert za.read(name) == zb.read(name), f"pruned-{k}.npz: {name} differs"
PY
then
  pass "--sweep --prune over 2 ranks: every run's pruned model and summary reach rank 0"
else
  fail "--sweep --prune over 2 ranks" "exit $rc" "$(head -c 600 "$tmp/prune.err")"
fi
# --seeds over 2 ranks: whole runs (seed × spec) per rank, as --sweep; rank 0's by_method
# (means, t-intervals, paired differences) and every run's numbers are the single process's.
# (--threads 1 on both: the Hessian's double backward differs in the last bits between 1 and 2
# threads, which is the ops' matter, not the spread's.)
seeded=(--data "$mnist" --train-size 1000 --epochs 1 --quiet --no-plots --threads 1 --reg none --reg 'l2(lambd=0.01)'
        --seeds 0,1)
"$app" "${seeded[@]}" --out "$tmp/seeds1" >/dev/null 2>&1
"${mpirun[@]}" -np 2 "$app" "${seeded[@]}" --out "$tmp/seeds2" >/dev/null 2>"$tmp/seeds.err"
rc=$?
if [[ $rc -eq 0 ]] && python3 - "$tmp/seeds1/summary.json" "$tmp/seeds2/summary.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert len(a["by_method"]) == 2 and a["by_method"] == b["by_method"], "by_method differs"
keep = lambda r: (r["seed"], r["reg"], r["test_accuracy"], r["ece"], r["test_nll"], r["hessian_top_eigenvalue"])
assert [keep(r) for r in a["runs"]] == [keep(r) for r in b["runs"]], "runs differ"
PY
then
  pass "--seeds over 2 ranks: by_method and every run identical to one process's"
else
  fail "--seeds over 2 ranks" "exit $rc" "$(head -c 600 "$tmp/seeds.err")"
fi

# Checkpoints over 2 ranks: rank 0 writes them, --resume restores every rank. 8 epochs in one go
# vs 4 epochs, then --resume to 8: the same numbers, written byte for byte (history.csv and
# summary.json without the timings), and bit-identical final parameters. The early-stopping run
# stops before epoch 8 (after epoch 4 it has one bad epoch behind it): it must resume with its
# best epoch, bad-epoch count and best weights to stop at the same epoch with the same weights.
# (The uninterrupted run is not --quiet: rank 1's discarded output must not end it.)
ck=(--data "$mnist" --train-size 500 --no-plots --reg 'l2(lambd=0.001)' --reg 'early_stopping(patience=2)')
"${mpirun[@]}" -np 2 "$app" "${ck[@]}" --epochs 8 --checkpoint "$tmp/ck_full" --out "$tmp/ck_full" \
  >/dev/null 2>"$tmp/ck.err" &&
  "${mpirun[@]}" -np 2 "$app" "${ck[@]}" --quiet --epochs 4 --checkpoint "$tmp/ck_part" --out "$tmp/ck_part" \
    >/dev/null 2>>"$tmp/ck.err" &&
  "${mpirun[@]}" -np 2 "$app" "${ck[@]}" --quiet --epochs 8 --checkpoint "$tmp/ck_part" --out "$tmp/ck_part" \
    --resume >/dev/null 2>>"$tmp/ck.err"
rc=$?
# history.csv without its two timing columns; summary.json's runs without the timings; each
# checkpoint's "param/" and "early/" arrays as sha256 of their bytes.
same_numbers() {
  python3 - "$1" "$2" <<'PY'
import csv, hashlib, io, json, sys, zipfile, glob, os
def table(d):
    rows = list(csv.reader(open(os.path.join(d, "history.csv"))))
    drop = {rows[0].index("seconds"), rows[0].index("eval_seconds")}
    return [[v for i, v in enumerate(r) if i not in drop] for r in rows]
def runs(d):
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("seconds", "eval_seconds", "seconds_per_epoch")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return json.dumps(strip(json.load(open(os.path.join(d, "summary.json")))["runs"]), sort_keys=True)
def arrays(d):
    out = {}
    for f in sorted(glob.glob(os.path.join(d, "*.ckpt.npz"))):
        z = zipfile.ZipFile(f)
        for n in z.namelist():
            if n.startswith(("param/", "early/")):
                out[os.path.basename(f) + ":" + n] = hashlib.sha256(z.read(n)).hexdigest()
    return out
a, b = sys.argv[1], sys.argv[2]
(ha, hb), (ra, rb), (pa, pb) = (table(a), table(b)), (runs(a), runs(b)), (arrays(a), arrays(b))
assert len(ha) > 1 and ha == hb, "history.csv differs"
assert ra == rb, "summary.json's runs differ"
for run in json.load(open(os.path.join(a, "summary.json")))["runs"]:
    if run["reg"].startswith("early_stopping"):
        assert len(run["epochs"]) < 8, "early stopping did not stop: this case no longer tests its resumed state"
assert len(pa) >= 4 and pa == pb, "the checkpoints' parameters differ"
PY
}
if [[ $rc -eq 0 ]] && same_numbers "$tmp/ck_full" "$tmp/ck_part" >"$tmp/ck.cmp" 2>&1; then
  pass "--checkpoint/--resume on 2 ranks: 4 + 4 epochs equal 8 in one go, bit for bit (history.csv, summary.json, parameters)"
else
  fail "--checkpoint/--resume on 2 ranks" "exit $rc" "$(head -c 600 "$tmp/ck.err")" "$(tail -n 3 "$tmp/ck.cmp" 2>/dev/null)"
fi
# Resumed again, both runs are finished (one stopped early): nothing is trained, same numbers.
"${mpirun[@]}" -np 2 "$app" "${ck[@]}" --quiet --epochs 8 --checkpoint "$tmp/ck_part" --out "$tmp/ck_again" \
  --resume >/dev/null 2>"$tmp/ck2.err"
rc=$?
cp "$tmp/ck_part/"*.ckpt.npz "$tmp/ck_again/" 2>/dev/null  # (unchanged: nothing was trained)
if [[ $rc -eq 0 ]] && same_numbers "$tmp/ck_full" "$tmp/ck_again" >"$tmp/ck.cmp" 2>&1; then
  pass "--resume on 2 ranks of finished runs (one stopped early): nothing retrained, the same numbers"
else
  fail "--resume on 2 ranks of finished runs" "exit $rc" "$(head -c 600 "$tmp/ck2.err")" "$(tail -n 3 "$tmp/ck.cmp" 2>/dev/null)"
fi
# Rank 0 cannot write the checkpoint (a folder where its temporary file goes): every rank
# stops after the first epoch with exit 5 and the message, none waits.
mkdir -p "$tmp/ck_ro/l2_lambd_0.001.ckpt.npz.tmp"
timeout 60 "${mpirun[@]}" -np 2 "$app" "${ck[@]}" --quiet --epochs 8 --checkpoint "$tmp/ck_ro" --out "$tmp/ck_ro_out" \
  >/dev/null 2>"$tmp/ckro.err"
rc=$?
# Both ranks print a --checkpoint line; mpirun forwards their stderr unsynchronised (the two
# can share one line) and may kill one rank once the other has exited, before it prints: so
# the check is exit 5 within the timeout and rank 0's reason, not a count of lines.
if [[ $rc -eq 5 ]] && grep -q -- "--checkpoint: .*ck_ro/l2_lambd_0.001.ckpt.npz.*is a directory" "$tmp/ckro.err"; then
  pass "rank 0 cannot write the checkpoint: the job stops, exit 5, naming the file"
else
  fail "rank 0 cannot write the checkpoint" "exit $rc" "$(head -c 600 "$tmp/ckro.err")"
fi
# SIGTERM to mpirun mid-run, after the first checkpoint (40 short epochs, about 2 s: the signal
# lands well before the end): every rank stops (143), rank 0's last
# checkpoint is intact, and --resume on 2 ranks ends bit-identical to an uninterrupted 2-rank run.
st=(--data "$mnist" --train-size 5000 --epochs 40 --quiet --no-plots --reg 'l2(lambd=0.001)')
"${mpirun[@]}" -np 2 "$app" "${st[@]}" --checkpoint "$tmp/st_full" --out "$tmp/st_full" >/dev/null 2>"$tmp/st.err"
"${mpirun[@]}" -np 2 "$app" "${st[@]}" --checkpoint "$tmp/st_part" --out "$tmp/st_part" >/dev/null 2>>"$tmp/st.err" &
job=$!
for _ in $(seq 1 300); do
  [[ -f "$tmp/st_part/l2_lambd_0.001.ckpt.npz" ]] && break
  sleep 0.05
done
kill -TERM "$job"
wait "$job"
rc=$?
stopped=$(grep -c "interrupted by SIGTERM" "$tmp/st.err")
"${mpirun[@]}" -np 2 "$app" "${st[@]}" --checkpoint "$tmp/st_part" --out "$tmp/st_part" --resume >/dev/null 2>>"$tmp/st.err"
rc2=$?
if [[ $rc -ne 0 && $stopped -eq 2 && $rc2 -eq 0 ]] && ! ls "$tmp/st_part"/*.tmp >/dev/null 2>&1 &&
   same_numbers "$tmp/st_full" "$tmp/st_part" >"$tmp/st.cmp" 2>&1; then
  pass "SIGTERM on 2 ranks, then --resume: bit-identical to the uninterrupted run ($(grep -o 'in epoch [0-9]*' "$tmp/st.err" | head -n 1))"
else
  fail "SIGTERM on 2 ranks, then --resume" "exit $rc, $stopped ranks stopped, resume exit $rc2" \
       "$(head -c 600 "$tmp/st.err")" "$(tail -n 3 "$tmp/st.cmp" 2>/dev/null)"
fi
# A checkpoint of 2 ranks resumed on 3: refused on every rank, exit 2, naming both counts.
"${mpirun[@]}" -np 3 "$app" "${ck[@]}" --quiet --epochs 8 --checkpoint "$tmp/ck_part" --out "$tmp/ck_3" --resume \
  >/dev/null 2>"$tmp/ck3.err"
rc=$?
if [[ $rc -eq 2 ]] && grep -q "written by a run on 2 ranks, this run has 3" "$tmp/ck3.err"; then
  pass "--resume on 3 ranks of a 2-rank checkpoint: exit 2 and a clear error"
else
  fail "--resume on 3 ranks of a 2-rank checkpoint" "exit $rc" "$(head -c 600 "$tmp/ck3.err")"
fi
# --checkpoint with --sweep over 2 ranks: each rank checkpoints the runs it trains; 1 epoch,
# then --resume to 2, writes the sweep.csv of one process's 2 epochs, byte for byte.
sw=(--data "$mnist" --train-size 2000 --quiet --no-plots --sweep l2 --lambdas 1e-4,1e-3)
# Rank 1 trains run 2: with run 1's checkpoint in its place, its resume is refused and ends
# the job (exit 2), which shows that rank 1 does read its runs' checkpoints.
"${mpirun[@]}" -np 2 "$app" "${sw[@]}" --epochs 1 --checkpoint "$tmp/ck_sweep" --out "$tmp/ck_sweep_out" \
  >/dev/null 2>"$tmp/cksweep.err"
rc=$?
second=$(ls "$tmp/ck_sweep"/l2_lambd_1e-4.ckpt.npz 2>/dev/null)
if [[ $rc -eq 0 && -n $second ]]; then
  mv "$second" "$tmp/second.npz" && cp "$tmp/ck_sweep"/none.ckpt.npz "$second"
  timeout 60 "${mpirun[@]}" -np 2 "$app" "${sw[@]}" --epochs 2 --checkpoint "$tmp/ck_sweep" --out "$tmp/ck_sweep_bad" \
    --resume >/dev/null 2>"$tmp/cksweep_bad.err"
  rc=$?
  if [[ $rc -eq 2 ]] && grep -q "other settings" "$tmp/cksweep_bad.err"; then
    pass "--sweep over 2 ranks: rank 1's refused --resume ends the job, exit 2"
  else
    fail "--sweep over 2 ranks: rank 1's refused --resume" "exit $rc" "$(head -c 600 "$tmp/cksweep_bad.err")"
  fi
  mv "$tmp/second.npz" "$second"
  "${mpirun[@]}" -np 2 "$app" "${sw[@]}" --epochs 2 --checkpoint "$tmp/ck_sweep" --out "$tmp/ck_sweep_out" --resume \
    >/dev/null 2>>"$tmp/cksweep.err"
  rc=$?
fi
if [[ $rc -eq 0 && -s "$tmp/sweep1/sweep.csv" ]] && cmp -s "$tmp/sweep1/sweep.csv" "$tmp/ck_sweep_out/sweep.csv"; then
  pass "--sweep over 2 ranks with --checkpoint, 1 epoch then --resume to 2: sweep.csv identical to one process's"
else
  fail "--sweep over 2 ranks with --checkpoint and --resume" "exit $rc" "$(head -c 600 "$tmp/cksweep.err")"
fi
# A corrupt checkpoint (rank 0 reads it): every rank stops with the data error, no hang.
printf 'not a zip' >"$tmp/ck_part/l2_lambd_0.001.ckpt.npz"
timeout 60 "${mpirun[@]}" -np 2 "$app" "${ck[@]}" --quiet --epochs 8 --checkpoint "$tmp/ck_part" --out "$tmp/ck_bad" --resume \
  >/dev/null 2>"$tmp/ckbad.err"
rc=$?
if [[ $rc -ne 0 && $rc -ne 124 ]] && grep -q "l2_lambd_0.001.ckpt.npz" "$tmp/ckbad.err"; then
  pass "--resume of a corrupt checkpoint on 2 ranks: exit $rc naming the file, no hang"
else
  fail "--resume of a corrupt checkpoint on 2 ranks" "exit $rc" "$(head -c 600 "$tmp/ckbad.err")"
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

# The same flags, other data (rank 1's copy of the images inverted; each rank started in its
# own folder, --data relative): a usage error, exit 2 on every rank, one message naming --data.
for r in 0 1; do
  mkdir -p "$tmp/wd$r/mnist"
  cp "$mnist"/*-ubyte* "$tmp/wd$r/mnist/"
done
python3 - "$tmp/wd1/mnist" <<'PY'
import glob, gzip, sys
path = glob.glob(sys.argv[1] + "/train-images-idx3-ubyte*")[0]
opener = gzip.open if path.endswith(".gz") else open
data = bytearray(opener(path, "rb").read())
data[16:] = bytes(255 - b for b in data[16:])  # after the IDX header
opener(path, "wb").write(bytes(data))
PY
dd=(--data mnist --train-size 500 --epochs 1 --quiet --no-plots --out out)
timeout 60 "${mpirun[@]}" -np 1 -wdir "$tmp/wd0" "$app" "${dd[@]}" : -np 1 -wdir "$tmp/wd1" "$app" "${dd[@]}" \
  >/dev/null 2>"$tmp/dd.err"
rc=$?
if [[ $rc -eq 2 && $(grep -c '^mnist_regularization:' "$tmp/dd.err") -eq 1 ]] &&
   grep -q "^mnist_regularization: --data mnist: the ranks read different images or labels" "$tmp/dd.err"; then
  pass "same flags, different data on rank 1: exit 2 and one message naming --data"
else
  fail "same flags, different data on rank 1" "exit $rc" "$(head -c 600 "$tmp/dd.err")"
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
