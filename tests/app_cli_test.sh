#!/usr/bin/env bash
# mnist_regularization's command line: exit codes (0 ok, 2 usage, 3 data, 4 diverged), the
# one-line stderr message, and what a successful run writes.
# Usage: app_cli_test.sh PATH/TO/mnist_regularization MNIST_DIR
# Cases that need MNIST are skipped (and counted) when MNIST_DIR holds no MNIST.
set -u

app=${1:?usage: app_cli_test.sh APP_BINARY MNIST_DIR}
mnist=${2:?usage: app_cli_test.sh APP_BINARY MNIST_DIR}
passed=0 failed=0 skipped=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtgrad_cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"  # every case writes here, never into the working directory

pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; shift; for line in "$@"; do echo "       $line"; done; }
skip() { skipped=$((skipped + 1)); echo "skip - $1: $2"; }

# expect NAME CODE WORD -- ARGS...: the app exits with CODE, and its stderr is one line that
# contains WORD (case-insensitive; "" accepts any single line).
expect() {
  local name=$1 code=$2 word=$3
  shift 4
  local rc lines
  "$app" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  lines=$(grep -c '' "$tmp/stderr")
  if [[ $rc -ne $code ]]; then
    fail "$name" "expected exit $code, got $rc" "stderr: $(head -c 400 "$tmp/stderr")"
  elif [[ $lines -ne 1 ]]; then
    fail "$name" "expected one line on stderr, got $lines" "stderr: $(head -c 400 "$tmp/stderr")"
  elif [[ -n $word ]] && ! grep -qiF -- "$word" "$tmp/stderr"; then
    fail "$name" "stderr does not mention '$word'" "stderr: $(cat "$tmp/stderr")"
  else
    pass "$name (exit $rc: $(cat "$tmp/stderr"))"
  fi
}

have_mnist=0
[[ -f $mnist/train-images-idx3-ubyte || -f $mnist/train-images-idx3-ubyte.gz || -f $mnist ]] && have_mnist=1
needs_mnist() {
  if [[ $have_mnist -eq 0 ]]; then
    skip "$1" "no MNIST at $mnist"
    return 1
  fi
}

common=(--data "$mnist" --out "$out" --quiet --no-plots)

# --- usage errors: exit 2, before any data is read ---------------------------------------
expect "--epochs 0"            2 epochs     -- "${common[@]}" --epochs 0
expect "--batch-size -1"       2 batch-size -- "${common[@]}" --batch-size -1
expect "--lr abc"              2 lr         -- "${common[@]}" --lr abc
expect "--lr inf"              2 lr         -- "${common[@]}" --lr inf
expect "--bogus"               2 bogus      -- "${common[@]}" --bogus
expect "--reg l3(lambd=1)"     2 l3         -- "${common[@]}" --reg 'l3(lambd=1)'
expect "--reg l2(lambd=-1)"    2 lambd      -- "${common[@]}" --reg 'l2(lambd=-1)'
expect "--reg l2(lambd=nan)"   2 lambd      -- "${common[@]}" --reg 'l2(lambd=nan)'
# --out under a regular file cannot be created.
touch "$tmp/a_file"
expect "--out under a file"    2 --out      -- --data "$mnist" --quiet --no-plots --out "$tmp/a_file/out"

# --- data errors: exit 3, naming the path --------------------------------------------------
expect "--data /nonexistent"   3 /nonexistent -- --data /nonexistent --out "$out" --quiet --no-plots
# A folder of well-formed one-image IDX files, except that train-images has a wrong magic
# number (12 34, not 00 00).
bad="$tmp/corrupt_mnist"
mkdir -p "$bad"
for set in train t10k; do
  { printf '\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x00\x1c\x00\x00\x00\x1c'; head -c 784 /dev/zero; } \
    >"$bad/$set-images-idx3-ubyte"
  printf '\x00\x00\x08\x01\x00\x00\x00\x01\x07' >"$bad/$set-labels-idx1-ubyte"
done
# Control: as written, the folder loads and trains (so the magic is what breaks it below).
if "$app" --data "$bad" --train-size 1 --epochs 1 --out "$out/control" --quiet --no-plots >"$tmp/stdout" 2>"$tmp/stderr"; then
  pass "control: the one-image IDX folder trains"
else
  fail "control: the one-image IDX folder trains" "$(cat "$tmp/stderr")"
fi
printf '\x12\x34' | dd of="$bad/train-images-idx3-ubyte" bs=1 seek=0 conv=notrunc status=none
expect "corrupt IDX (wrong magic)" 3 train-images-idx3-ubyte -- --data "$bad" --out "$out" --quiet --no-plots

# --- cases that read MNIST -------------------------------------------------------------
if needs_mnist "--train-size 70000"; then
  expect "--train-size 70000"  2 train-size -- "${common[@]}" --train-size 70000
fi

# lr = 1e38 (near float's largest value): the output weights jump to ~1e38 in one step, the
# logits overflow to ±inf and the loss is NaN at batch 2. (lr = 1e6, 1e20 and 1e30 do not
# diverge: cross-entropy's gradient is bounded by 1 per element and the sigmoid saturates,
# so the logits grow by at most ~lr per step and the loss stays finite.)
if needs_mnist "--lr 1e38 diverges"; then
  expect "--lr 1e38 diverges"  4 diverged -- "${common[@]}" --lr 1e38 --epochs 1 --train-size 512 --reg none
fi

if needs_mnist "successful run"; then
  run=(--data "$mnist" --train-size 1000 --epochs 2 --reg none --reg 'l1(lambd=1e-4)' --out "$out/ok" --quiet)
  "$app" "${run[@]}" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]]; then pass "successful run exits 0"; else fail "successful run exits 0" "exit $rc: $(cat "$tmp/stderr")"; fi

  if python3 - "$out/ok/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert "config" in s, "no config"
assert s["config"]["epochs"] == 2 and s["config"]["train_size"] == 1000, s["config"]
runs = s["runs"]
assert len(runs) == 2, f"{len(runs)} runs"
assert [r["reg"] for r in runs][0] == "none", [r["reg"] for r in runs]
assert runs[1]["reg"].startswith("l1"), runs[1]["reg"]
for r in runs:
    assert len(r["epochs"]) == 2, f"{r['reg']}: {len(r['epochs'])} epochs"
    assert 0 <= r["test_accuracy"] <= 1, r["test_accuracy"]
PY
  then pass "summary.json: config and 2 runs of 2 epochs"; else fail "summary.json: config and 2 runs of 2 epochs"; fi

  if [[ -f $out/ok/history.csv ]] && [[ $(grep -c '' "$out/ok/history.csv") -eq 5 ]] &&
     head -n1 "$out/ok/history.csv" | grep -q '^run,reg,'; then
    pass "history.csv: header + 4 rows"
  else
    fail "history.csv: header + 4 rows" "$(cat "$out/ok/history.csv" 2>&1)"
  fi

  if command -v gnuplot >/dev/null 2>&1; then
    if [[ -s $out/ok/loss.png && -s $out/ok/weights.png ]] &&
       [[ $(head -c 4 "$out/ok/loss.png" | od -An -tx1 | tr -d ' \n') == 89504e47 ]]; then
      pass "loss.png and weights.png written"
    else
      fail "loss.png and weights.png written" "$(ls -la "$out/ok")"
    fi
  else
    skip "loss.png and weights.png written" "gnuplot is not installed"
  fi

  # A second run into the same folder replaces the files and leaves no temporaries.
  "$app" "${run[@]}" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  leftovers=$(find "$out/ok" -name '*.tmp' -o -name '.write_test' 2>&1)
  if [[ $rc -eq 0 && -z $leftovers && -s $out/ok/summary.json && -s $out/ok/history.csv ]] &&
     python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$out/ok/summary.json"; then
    pass "second run into the same --out leaves no *.tmp files"
  else
    fail "second run into the same --out leaves no *.tmp files" "exit $rc" "left: $leftovers" "$(cat "$tmp/stderr")"
  fi
fi

# --- checkpoints, --resume and signals ----------------------------------------------------
expect "--resume without --checkpoint" 2 checkpoint -- "${common[@]}" --resume

# start_and_signal NAME SIGNAL CKPT_DIR OUT_DIR ARGS...: starts the app in the background,
# waits for its first checkpoint, sends SIGNAL and leaves the exit code in $rc ("timeout" if
# no checkpoint appeared within 120 s, "finished" if the app had already exited).
start_and_signal() {
  local name=$1 sig=$2 ckpt=$3 dir=$4
  shift 4
  "$app" "$@" --checkpoint "$ckpt" --out "$dir" >"$tmp/stdout" 2>"$tmp/stderr" &
  local pid=$! waited=0
  while [[ -z $(find "$ckpt" -name '*.ckpt.npz' 2>/dev/null) ]]; do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=finished; return; fi
    if [[ $waited -ge 2400 ]]; then kill -KILL "$pid"; wait "$pid"; rc=timeout; return; fi
    sleep 0.05
    waited=$((waited + 1))
  done
  kill -"$sig" "$pid"
  wait "$pid"
  rc=$?
}

# The "param/..." entries of a checkpoint, as raw bytes keyed by name (exact comparison).
params_of() {
  python3 - "$1" <<'PY'
import sys, zipfile, hashlib
z = zipfile.ZipFile(sys.argv[1])
for n in sorted(z.namelist()):
    if n.startswith("param/"):
        print(n, hashlib.sha256(z.read(n)).hexdigest())
PY
}

if needs_mnist "checkpoints: interrupted and resumed equals uninterrupted"; then
  # 20 epochs of ~0.1 s each: long enough for the signal to land mid-run after the first checkpoint.
  ck=(--data "$mnist" --train-size 1000 --epochs 20 --reg 'l2(lambd=0.001)' --quiet --no-plots)
  "$app" "${ck[@]}" --checkpoint "$tmp/ck_full" --out "$out/ck_full" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 && -f $tmp/ck_full/1-l2_lambd_0.001.ckpt.npz ]]; then
    pass "--checkpoint: an uninterrupted run saves DIR/1-l2_lambd_0.001.ckpt.npz"
  else
    fail "--checkpoint: an uninterrupted run saves DIR/1-l2_lambd_0.001.ckpt.npz" "exit $rc: $(cat "$tmp/stderr")" \
         "$(ls -la "$tmp/ck_full" 2>&1)"
  fi

  # An earlier results folder must survive the interruption untouched.
  mkdir -p "$out/ck_int" && echo '{"earlier": true}' >"$out/ck_int/summary.json"
  start_and_signal "SIGINT" INT "$tmp/ck_int" "$out/ck_int" "${ck[@]}"
  leftovers=$(find "$tmp/ck_int" "$out/ck_int" -name '*.tmp' 2>&1)
  lines=$(grep -c '' "$tmp/stderr")
  if [[ $rc == 130 && -z $leftovers && $lines -eq 1 && -f $tmp/ck_int/1-l2_lambd_0.001.ckpt.npz ]] &&
     grep -q 'SIGINT' "$tmp/stderr" && grep -qF "$tmp/ck_int/1-l2_lambd_0.001.ckpt.npz" "$tmp/stderr" &&
     grep -q '"earlier"' "$out/ck_int/summary.json"; then
    pass "SIGINT mid-run: exit 130, no *.tmp, checkpoint and earlier results kept ($(cat "$tmp/stderr"))"
  else
    fail "SIGINT mid-run: exit 130, no *.tmp, checkpoint and earlier results kept" "exit $rc" "left: $leftovers" \
         "stderr: $(cat "$tmp/stderr")" "$(ls -la "$tmp/ck_int" "$out/ck_int" 2>&1)"
  fi

  "$app" "${ck[@]}" --checkpoint "$tmp/ck_int" --out "$out/ck_int" --resume >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 - "$out/ck_full/summary.json" "$out/ck_int/summary.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["runs"][0] for p in sys.argv[1:3])
assert len(a["epochs"]) == len(b["epochs"]) == 20, f"{len(b['epochs'])} epochs after --resume"
assert a["test_accuracy"] == b["test_accuracy"], (a["test_accuracy"], b["test_accuracy"])
for ea, eb in zip(a["epochs"], b["epochs"]):
    assert ea["epoch"] == eb["epoch"] and ea["data_loss"] == eb["data_loss"] and ea["test_accuracy"] == eb["test_accuracy"], (ea, eb)
PY
  then
    pass "--resume after SIGINT: summary.json equals the uninterrupted run's (accuracy, every epoch's data loss)"
  else
    fail "--resume after SIGINT: summary.json equals the uninterrupted run's" "exit $rc: $(cat "$tmp/stderr")"
  fi
  if [[ -n $(params_of "$tmp/ck_full/1-l2_lambd_0.001.ckpt.npz") ]] &&
     [[ $(params_of "$tmp/ck_full/1-l2_lambd_0.001.ckpt.npz") == $(params_of "$tmp/ck_int/1-l2_lambd_0.001.ckpt.npz") ]]; then
    pass "--resume after SIGINT: final parameters bit-identical to the uninterrupted run's"
  else
    fail "--resume after SIGINT: final parameters bit-identical to the uninterrupted run's"
  fi

  # A finished run is not retrained: its epochs keep their recorded timings.
  cp "$out/ck_full/summary.json" "$tmp/full_summary.json"
  "$app" "${ck[@]}" --checkpoint "$tmp/ck_full" --out "$out/ck_full" --resume >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 - "$tmp/full_summary.json" "$out/ck_full/summary.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["runs"][0] for p in sys.argv[1:3])
assert [e["seconds"] for e in a["epochs"]] == [e["seconds"] for e in b["epochs"]], "retrained"
assert a["test_accuracy"] == b["test_accuracy"]
PY
  then
    pass "--resume of a finished run does not retrain it"
  else
    fail "--resume of a finished run does not retrain it" "exit $rc: $(cat "$tmp/stderr")"
  fi

  # Other settings than the checkpoint's: refused, exit 2.
  expect "--resume with another --lr" 2 "other settings" -- "${ck[@]}" --lr 0.05 --checkpoint "$tmp/ck_full" \
         --out "$out/ck_full" --resume
fi

if needs_mnist "SIGTERM mid-run"; then
  start_and_signal "SIGTERM" TERM "$tmp/ck_term" "$out/ck_term" --data "$mnist" --train-size 1000 --epochs 20 \
                   --reg none --quiet --no-plots
  leftovers=$(find "$tmp/ck_term" "$out/ck_term" -name '*.tmp' 2>&1)
  if [[ $rc == 143 && -z $leftovers && $(grep -c '' "$tmp/stderr") -eq 1 ]] && grep -q 'SIGTERM' "$tmp/stderr" &&
     [[ -f $tmp/ck_term/1-none.ckpt.npz ]]; then
    pass "SIGTERM mid-run: exit 143, checkpoint kept ($(cat "$tmp/stderr"))"
  else
    fail "SIGTERM mid-run: exit 143, checkpoint kept" "exit $rc" "left: $leftovers" "stderr: $(cat "$tmp/stderr")"
  fi
fi

if needs_mnist "divergence with --checkpoint"; then
  expect "--lr 1e38 with --checkpoint says where the checkpoint is" 4 checkpoint -- "${common[@]}" --lr 1e38 \
         --epochs 1 --train-size 512 --reg none --checkpoint "$tmp/ck_div"
fi

# --- L1 modes, schedules, accounting, sweeps, pictures (issue 7) ---------------------------
expect "--reg l1 mode=fast"          2 "not subgradient or prox" -- "${common[@]}" --reg 'l1(lambd=1e-4, mode=fast)'
expect "--reg l2 mode=prox"          2 "unknown key 'mode'"      -- "${common[@]}" --reg 'l2(lambd=1e-4, mode=prox)'
expect "--reg l1 start=0"            2 "epoch number"            -- "${common[@]}" --reg 'l1(lambd=1e-4, start=0)'
expect "--sweep l3"                  2 "--sweep"                 -- "${common[@]}" --sweep l3
expect "--sweep with --reg"          2 "excludes"                -- "${common[@]}" --sweep l1 --reg none
expect "--lambdas 0"                 2 "lambdas"                 -- "${common[@]}" --sweep l1 --lambdas 1e-4,0
expect "--lambdas without --sweep"   2 "requires"                -- "${common[@]}" --lambdas 1e-4

if needs_mnist "prox and start: exact zeros, per-tensor penalties, schedule"; then
  "$app" --data "$mnist" --train-size 1000 --epochs 3 --reg 'l1(lambd=1e-3, mode=prox, start=2)' \
         --reg 'l1(lambd=1e-3, start=2)' --out "$out/prox" --quiet --no-plots >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 - "$out/prox/summary.json" "$out/prox/history.csv" <<'PY'
import csv, json, sys
s = json.load(open(sys.argv[1]))
prox, sub = s["runs"]
assert prox["reg"] == "l1(lambd=0.001, mode=prox, start=2)", prox["reg"]
assert prox["coverage"][0]["l1_mode"] == "prox" and prox["coverage"][0]["start"] == 2, prox["coverage"][0]
for r in (prox, sub):
    e = r["epochs"]
    assert e[0]["penalty"] == 0 and e[1]["penalty"] > 0 and e[2]["penalty"] > 0, [x["penalty"] for x in e]
    for x in e:
        by = x["penalty_by_tensor"]
        assert set(by) == {"fc1.weight", "fc2.weight"}, by
        # per-tensor values are taken at the epoch's end, the total is the mean over its batches:
        # close, not equal
        assert abs(sum(by.values()) - x["penalty"]) <= 0.25 * max(1e-6, x["penalty"]), (by, x["penalty"])
zeros = lambda r: sum(t["exact_zeros"] for t in r["sparsity"])
assert zeros(prox) > 1000, f"prox: {zeros(prox)} exact zeros"
assert zeros(sub) < 10, f"subgradient: {zeros(sub)} exact zeros"
rows = list(csv.DictReader(open(sys.argv[2])))
assert "penalty[fc1.weight]" in rows[0] and "penalty[fc1.bias]" in rows[0], list(rows[0])
assert float(rows[0]["penalty[fc1.weight]"]) == 0 and float(rows[1]["penalty[fc1.weight]"]) > 0, rows[:2]
assert float(rows[1]["penalty[fc1.bias]"]) == 0
PY
  then
    pass "l1 mode=prox start=2: penalty 0 in epoch 1, per-tensor penalties close to it, exact zeros only with prox"
  else
    fail "l1 mode=prox start=2: penalty 0 in epoch 1, per-tensor penalties close to it, exact zeros only with prox" \
         "exit $rc: $(cat "$tmp/stderr")"
  fi
fi

if needs_mnist "--sweep and --dump-graph"; then
  "$app" --data "$mnist" --train-size 500 --epochs 1 --sweep l1 --sweep 'l1(mode=prox)' --lambdas 1e-4,1e-3 \
         --out "$out/sweep" --dump-graph "$out/sweep/step.dot" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 - "$out/sweep/sweep.csv" "$out/sweep/summary.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [(r["kind"], float(r["lambda"])) for r in rows] == [("none", 0), ("l1", 1e-4), ("l1", 1e-3),
        ("l1(mode=prox)", 1e-4), ("l1(mode=prox)", 1e-3)], rows
assert int(rows[4]["exact_zeros"]) > int(rows[2]["exact_zeros"]), rows
runs = json.load(open(sys.argv[2]))["runs"]
assert [r["reg"] for r in runs][3] == "l1(lambd=1e-4, mode=prox)", [r["reg"] for r in runs]
PY
  then pass "--sweep: none plus one run per kind and lambda, sweep.csv"; else fail "--sweep: none plus one run per kind and lambda, sweep.csv" "exit $rc: $(cat "$tmp/stderr")"; fi
  if grep -q "vs none" "$tmp/stdout"; then pass "--sweep prints its table"; else fail "--sweep prints its table" "$(tail -n 12 "$tmp/stdout")"; fi
  if head -c 7 "$out/sweep/step.dot" 2>/dev/null | grep -q digraph && grep -q "weight" "$out/sweep/step.dot"; then
    pass "--dump-graph writes the step's DOT graph"
  else
    fail "--dump-graph writes the step's DOT graph" "$(head -c 300 "$out/sweep/step.dot" 2>&1)"
  fi
  png_ok() { [[ -s $1 && $(head -c 4 "$1" | od -An -tx1 | tr -d ' \n') == 89504e47 ]]; }
  if command -v dot >/dev/null 2>&1; then
    if png_ok "$out/sweep/step.png"; then pass "--dump-graph renders step.png with dot"; else fail "--dump-graph renders step.png with dot"; fi
  else
    skip "--dump-graph renders step.png" "Graphviz is not installed"
  fi
  if command -v gnuplot >/dev/null 2>&1; then
    if png_ok "$out/sweep/path.png" && png_ok "$out/sweep/pixels.png" && png_ok "$out/sweep/weights.png"; then
      pass "--sweep draws path.png, pixels.png and weights.png"
    else
      fail "--sweep draws path.png, pixels.png and weights.png" "$(ls -la "$out/sweep")"
    fi
  else
    skip "--sweep draws path.png, pixels.png and weights.png" "gnuplot is not installed"
  fi
  leftovers=$(find "$out/sweep" -name '*.tmp' 2>&1)
  if [[ -z $leftovers ]]; then pass "--sweep leaves no *.tmp files"; else fail "--sweep leaves no *.tmp files" "$leftovers"; fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
