#!/usr/bin/env bash
# mnist_regularization's command line: exit codes (0 ok, 2 usage, 3 data, 4 diverged, 5 output,
# 6 memory, 130/143 signals), the one-line stderr message, and what a successful run writes.
# Usage: app_cli_test.sh PATH/TO/mnist_regularization MNIST_DIR
# Cases that need MNIST are skipped (and counted) when MNIST_DIR holds no MNIST.
set -u

app=${1:?usage: app_cli_test.sh APP_BINARY MNIST_DIR}
mnist=${2:?usage: app_cli_test.sh APP_BINARY MNIST_DIR}
app=$(realpath "$app") mnist=$(realpath -m "$mnist")  # absolute: some cases run from another folder
passed=0 failed=0 skipped=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtgrad_cli.XXXXXX") || exit 1
mounted=()  # tmpfs folders mounted by the disk-full cases, unmounted on exit
cleanup() {
  local m
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
out="$tmp/out"  # every case writes here, never into the working directory

pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; shift; for line in "$@"; do echo "       $line"; done; }
skip() { skipped=$((skipped + 1)); echo "skip - $1: $2"; }

# verdict NAME CODE WORD: for a run made by hand ($rc and $tmp/stderr), the app exited with CODE
# and its stderr is one line that contains WORD (case-insensitive; "" accepts any single line).
verdict() {
  local name=$1 code=$2 word=$3 lines
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

# expect NAME CODE WORD -- ARGS...: runs the app with ARGS, then verdict NAME CODE WORD.
expect() {
  local name=$1 code=$2 word=$3 rc
  shift 4
  "$app" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  verdict "$name" "$code" "$word"
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
expect "--momentum 1"           2 momentum   -- "${common[@]}" --momentum 1
expect "--momentum -0.1"        2 momentum   -- "${common[@]}" --momentum -0.1
expect "--momentum nan"         2 momentum   -- "${common[@]}" --momentum nan
expect "--bogus"               2 bogus      -- "${common[@]}" --bogus
expect "--reg l3(lambd=1)"     2 l3         -- "${common[@]}" --reg 'l3(lambd=1)'
expect "--reg l2(lambd=-1)"    2 lambd      -- "${common[@]}" --reg 'l2(lambd=-1)'
expect "--reg l2(lambd=nan)"   2 lambd      -- "${common[@]}" --reg 'l2(lambd=nan)'
expect "--reg dropout(p=1)"     2 "out of range" -- "${common[@]}" --reg 'dropout(p=1)'
expect "--reg dropout(q=0.5)"   2 "unknown key"  -- "${common[@]}" --reg 'dropout(q=0.5)'
expect "--reg l1+l2 terms"      2 "at most one"  -- "${common[@]}" --reg 'l1(lambd=1)+l2(lambd=1)'
expect "--reg none+dropout"     2 "none cannot"  -- "${common[@]}" --reg 'none+dropout(p=0.5)'
expect "--reg trailing +"       2 "empty term"   -- "${common[@]}" --reg 'l2(lambd=1)+'
expect "--reg patience=0"       2 patience       -- "${common[@]}" --reg 'early_stopping(patience=0)'
expect "--eval-fgsm 0"          2 eval-fgsm      -- "${common[@]}" --eval-fgsm 0.1,0
expect "--eval-fgsm 3"          2 eval-fgsm      -- "${common[@]}" --eval-fgsm 3
# Empty values (issue 19): CLI11 read `--momentum ''` as 0 and dropped the empty items of a list.
for list in '0.1,,0.2' '0.1,' ',0.1' ',' '[0.1,,0.2]'; do
  expect "--eval-fgsm '$list'" 2 "--eval-fgsm" -- "${common[@]}" --eval-fgsm "$list"
done
expect "--lambdas '1e-4,,1e-3'" 2 "--lambdas"   -- "${common[@]}" --sweep l1 --lambdas '1e-4,,1e-3'
expect "--lambdas '1e-4,'"      2 "--lambdas"   -- "${common[@]}" --sweep l1 --lambdas '1e-4,'
# Every flag that takes a value refuses an empty one, naming it.
for flag in --data --model --dataset --train-size --epochs --batch-size --hidden --lr --momentum --seed --threads \
            --out --reg --eval-fgsm --sweep --dump-graph --checkpoint --seeds; do
  expect "$flag ''" 2 "$flag" -- "${common[@]}" "$flag" ''
done
expect "--lambdas ''" 2 "--lambdas" -- "${common[@]}" --sweep l1 --lambdas ''
expect "--momentum=" 2 "--momentum" -- "${common[@]}" --momentum=
# --seeds: whole numbers, at least 2, each once; not with --seed.
expect "--seeds 0"              2 "at least 2"   -- "${common[@]}" --seeds 0
expect "--seeds 0,0"            2 "given twice"  -- "${common[@]}" --seeds 0,0
expect "--seeds 0,-1"           2 "--seeds"      -- "${common[@]}" --seeds 0,-1
expect "--seeds 0,1.5"          2 "whole number" -- "${common[@]}" --seeds 0,1.5
expect "--seeds 0,x"            2 "--seeds"      -- "${common[@]}" --seeds 0,x
expect "--seeds 0,2^64"         2 "--seeds"      -- "${common[@]}" --seeds 0,18446744073709551616
expect "--seeds '0,,1'"         2 "item 2"       -- "${common[@]}" --seeds 0,,1
expect "--seeds '0,'"           2 "--seeds"      -- "${common[@]}" --seeds 0,
expect "--seeds with --seed"    2 "--seed"       -- "${common[@]}" --seeds 0,1 --seed 3
# early_stopping holds out 10% of --train-size: below 5 images nothing is left to validate on
# (was: exit 1, "internal error … split_dataset").
for n in 1 4; do
  expect "--reg early_stopping with --train-size $n" 2 "--train-size $n" -- "${common[@]}" \
         --reg 'early_stopping(patience=1)' --train-size "$n"
done
# --out under a regular file cannot be created.
touch "$tmp/a_file"
expect "--out under a file"    2 --out      -- --data "$mnist" --quiet --no-plots --out "$tmp/a_file/out"

# --- data errors: exit 3, naming the path --------------------------------------------------
expect "--data /nonexistent"   3 /nonexistent -- --data /nonexistent --out "$out" --quiet --no-plots
expect "--dataset fashion-mnist, folder missing" 3 dataset-fashion-mnist -- --dataset fashion-mnist \
       --data /nonexistent/fm --out "$out" --quiet --no-plots
expect "--dataset cifar"       2 dataset    -- "${common[@]}" --dataset cifar
expect "--model resnet"        2 model      -- "${common[@]}" --model resnet
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
if needs_mnist "--reg early_stopping with --train-size 5"; then
  # Control for the cases of --train-size 1 and 4 above: 5 images leave 1 to validate on.
  "$app" "${common[@]}" --reg 'early_stopping(patience=1)' --train-size 5 --epochs 2 >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]]; then pass "--reg early_stopping with --train-size 5 trains"
  else fail "--reg early_stopping with --train-size 5 trains" "exit $rc: $(cat "$tmp/stderr")"; fi
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
  if [[ $rc -eq 0 && -f $tmp/ck_full/l2_lambd_0.001.ckpt.npz ]]; then
    pass "--checkpoint: an uninterrupted run saves DIR/l2_lambd_0.001.ckpt.npz"
  else
    fail "--checkpoint: an uninterrupted run saves DIR/l2_lambd_0.001.ckpt.npz" "exit $rc: $(cat "$tmp/stderr")" \
         "$(ls -la "$tmp/ck_full" 2>&1)"
  fi

  # An earlier results folder must survive the interruption untouched.
  mkdir -p "$out/ck_int" && echo '{"earlier": true}' >"$out/ck_int/summary.json"
  start_and_signal "SIGINT" INT "$tmp/ck_int" "$out/ck_int" "${ck[@]}"
  leftovers=$(find "$tmp/ck_int" "$out/ck_int" -name '*.tmp' 2>&1)
  lines=$(grep -c '' "$tmp/stderr")
  if [[ $rc == 130 && -z $leftovers && $lines -eq 1 && -f $tmp/ck_int/l2_lambd_0.001.ckpt.npz ]] &&
     grep -q 'SIGINT' "$tmp/stderr" && grep -qF "$tmp/ck_int/l2_lambd_0.001.ckpt.npz" "$tmp/stderr" &&
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
  if [[ -n $(params_of "$tmp/ck_full/l2_lambd_0.001.ckpt.npz") ]] &&
     [[ $(params_of "$tmp/ck_full/l2_lambd_0.001.ckpt.npz") == $(params_of "$tmp/ck_int/l2_lambd_0.001.ckpt.npz") ]]; then
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
  expect "--resume with another --momentum" 2 "other settings" -- "${ck[@]}" --momentum 0.9 \
         --checkpoint "$tmp/ck_full" --out "$out/ck_full" --resume
fi

if needs_mnist "--resume with early stopping"; then
  # 8 epochs in one go vs one epoch per invocation, each resuming the last (--epochs 1, 2, ..., 8):
  # early stopping's state (best epoch, bad epochs, best weights, stopped) crosses every epoch
  # boundary, including its stop (the later invocations then train nothing). The run must stop
  # early for this to test anything; the kept epoch, its weights and every number must match.
  es=(--data "$mnist" --train-size 500 --quiet --no-plots --reg 'early_stopping(patience=2)')
  "$app" "${es[@]}" --epochs 8 --checkpoint "$tmp/es_full" --out "$out/es_full" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  for k in 1 2 3 4 5 6 7 8; do
    ((rc == 0)) || break
    "$app" "${es[@]}" --epochs $k --checkpoint "$tmp/es_part" --out "$out/es_part" $( ((k > 1)) && echo --resume) \
      >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
  done
  if [[ $rc -eq 0 ]] && python3 - "$out/es_full/summary.json" "$out/es_part/summary.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["runs"][0] for p in sys.argv[1:3])
assert len(a["epochs"]) < 8, f"early stopping did not stop ({len(a['epochs'])} epochs): the case tests nothing"
assert len(a["epochs"]) == len(b["epochs"]), (len(a["epochs"]), len(b["epochs"]))
assert a["early_stopping_best_epoch"] == b["early_stopping_best_epoch"], (a["early_stopping_best_epoch"], b["early_stopping_best_epoch"])
for key in ("test_accuracy", "train_accuracy", "sparsity"):
    assert a[key] == b[key], (key, a[key], b[key])
for ea, eb in zip(a["epochs"], b["epochs"]):
    assert (ea["data_loss"], ea["test_accuracy"]) == (eb["data_loss"], eb["test_accuracy"]), (ea, eb)
PY
  then
    pass "--resume with early stopping, one epoch per invocation, equals the uninterrupted run (stop, kept epoch, weights)"
  else
    fail "--resume with early stopping equals the uninterrupted run" "exit $rc: $(cat "$tmp/stderr")"
  fi
fi

if needs_mnist "--resume with dropout, noise and FGSM training"; then
  # Their draws restart from the seed at every epoch: one epoch, then --resume to two, equals two.
  rs=(--data "$mnist" --train-size 500 --quiet --no-plots --reg 'dropout(p=0.5)+noise(std=0.3)+adversarial(eps=0.1)')
  "$app" "${rs[@]}" --epochs 2 --checkpoint "$tmp/rs_full" --out "$out/rs_full" >"$tmp/stdout" 2>"$tmp/stderr" &&
    "$app" "${rs[@]}" --epochs 1 --checkpoint "$tmp/rs_part" --out "$out/rs_part" >"$tmp/stdout" 2>"$tmp/stderr" &&
    "$app" "${rs[@]}" --epochs 2 --checkpoint "$tmp/rs_part" --out "$out/rs_part" --resume >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 - "$out/rs_full/summary.json" "$out/rs_part/summary.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["runs"][0] for p in sys.argv[1:3])
assert len(a["epochs"]) == len(b["epochs"]) == 2
assert [e["data_loss"] for e in a["epochs"]] == [e["data_loss"] for e in b["epochs"]], (a["epochs"], b["epochs"])
assert a["test_accuracy"] == b["test_accuracy"]
PY
  then
    pass "--resume with dropout+noise+adversarial equals the uninterrupted run"
  else
    fail "--resume with dropout+noise+adversarial equals the uninterrupted run" "exit $rc: $(cat "$tmp/stderr")"
  fi
fi

if needs_mnist "SIGTERM mid-run"; then
  start_and_signal "SIGTERM" TERM "$tmp/ck_term" "$out/ck_term" --data "$mnist" --train-size 1000 --epochs 20 \
                   --reg none --quiet --no-plots
  leftovers=$(find "$tmp/ck_term" "$out/ck_term" -name '*.tmp' 2>&1)
  if [[ $rc == 143 && -z $leftovers && $(grep -c '' "$tmp/stderr") -eq 1 ]] && grep -q 'SIGTERM' "$tmp/stderr" &&
     [[ -f $tmp/ck_term/none.ckpt.npz ]]; then
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

if needs_mnist "the chapter's methods and --eval-fgsm"; then
  "$app" --data "$mnist" --train-size 600 --epochs 3 --out "$out/methods" --quiet --eval-fgsm 0.1,0.3 \
         --reg none --reg 'l2(lambd=1e-4)+dropout(p=0.5)' --reg 'maxnorm(c=1)+noise(std=0.2)' \
         --reg 'label_smoothing(eps=0.1)' --reg 'early_stopping(patience=1)' --reg 'adversarial(eps=0.1)' \
         --reg 'input_grad(lambd=0.01)' >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && grep -q 'fgsm@0.3' "$tmp/stdout" && { ! command -v gnuplot >/dev/null || [[ -s $out/methods/fgsm.png ]]; } &&
     python3 - "$out/methods/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
runs = s["runs"]
assert [r["reg"] for r in runs] == ["none", "l2(lambd=1e-4)+dropout(p=0.5)", "maxnorm(c=1)+noise(std=0.2)",
        "label_smoothing(eps=0.1)", "early_stopping(patience=1)", "adversarial(eps=0.1)",
        "input_grad(lambd=0.01)"], [r["reg"] for r in runs]
assert s["config"]["eval_fgsm"] == [0.1, 0.3]
assert runs[0]["effects"] == [] and all(r["effects"] for r in runs[1:]), [r["effects"] for r in runs]
assert len(runs[2]["effects"]) == 2
for r in runs:
    f = r["fgsm_test_accuracy"]
    assert [x["eps"] for x in f] == [0.1, 0.3], f
    assert all(0 <= x["test_accuracy"] <= 1 for x in f), f
    assert abs(r["train_test_gap"] - (r["train_accuracy"] - r["test_accuracy"])) < 1e-12
assert runs[0]["fgsm_test_accuracy"][1]["test_accuracy"] < runs[0]["test_accuracy"], runs[0]
assert 1 <= runs[4]["early_stopping_best_epoch"] <= len(runs[4]["epochs"]), runs[4]
assert all(e["penalty"] > 0 for e in runs[6]["epochs"]), [e["penalty"] for e in runs[6]["epochs"]]
assert runs[1]["coverage"][0]["l2"] == 1e-4
PY
  then
    pass "7 runs of the chapter's methods: canonical specs, effects, FGSM accuracies, gap, early stopping, input_grad penalty"
  else
    fail "7 runs of the chapter's methods" "exit $rc: $(cat "$tmp/stderr")"
  fi
fi

if needs_mnist "--model lenet"; then
  "$app" --data "$mnist" --model lenet --train-size 500 --epochs 2 --out "$out/lenet" --quiet --no-plots \
         --eval-fgsm 0.1 --reg 'maxnorm(c=1)+dropout(p=0.5)' --reg 'adversarial(eps=0.1)' \
         --reg 'input_grad(lambd=1)+dropout(p=0.5)' >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["config"]["model"] == "lenet"
names = [c["tensor"] for c in s["runs"][0]["coverage"]]
assert names[:2] == ["conv1.weight", "conv1.bias"] and "fc3.weight" in names, names
for r in s["runs"]:
    assert 0.2 < r["test_accuracy"] <= 1 and len(r["fgsm_test_accuracy"]) == 1, r["test_accuracy"]
# double backpropagation through conv2d, max_pool2d and dropout
assert all(e["penalty"] > 0 for e in s["runs"][2]["epochs"]), [e["penalty"] for e in s["runs"][2]["epochs"]]' "$out/lenet/summary.json"; then
    pass "--model lenet trains max-norm+dropout, adversarial and input_grad+dropout runs and evaluates FGSM"
  else
    fail "--model lenet trains max-norm+dropout, adversarial and input_grad+dropout runs and evaluates FGSM" \
         "exit $rc: $(cat "$tmp/stderr")"
  fi
fi

# Fashion-MNIST from Debian's dataset-fashion-mnist, when installed (scripts/install_deps.sh).
if [[ -d /usr/share/datasets/fashion-mnist ]]; then
  "$app" --dataset fashion-mnist --train-size 2000 --epochs 2 --out "$out/fashion" --quiet --no-plots \
         --reg 'dropout(p=0.2)' >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["config"]["dataset"] == "fashion-mnist" and s["config"]["data"] == "/usr/share/datasets/fashion-mnist"
assert 0.2 < s["runs"][0]["test_accuracy"] <= 1, s["runs"][0]["test_accuracy"]' "$out/fashion/summary.json"; then
    pass "--dataset fashion-mnist reads /usr/share/datasets/fashion-mnist and trains"
  else
    fail "--dataset fashion-mnist reads /usr/share/datasets/fashion-mnist and trains" "exit $rc: $(cat "$tmp/stderr")"
  fi
else
  skip "--dataset fashion-mnist" "dataset-fashion-mnist is not installed"
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
  # --sweep with --seeds: every point once per seed (seed-major), each row with its seed and its
  # accuracy change against the none run of the same seed; dead pixels counted over the 784 inputs
  "$app" --data "$mnist" --train-size 300 --epochs 1 --threads 1 --sweep 'l1(mode=prox)' --lambdas 1e-3,0.05 \
         --seeds 0,1 --out "$out/sweep_seeds" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 && -s "$out/sweep_seeds/path.png" || $rc -eq 0 && ! -x "$(command -v gnuplot)" ]] &&
     python3 - "$out/sweep_seeds/sweep.csv" "$out/sweep_seeds/summary.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [(r["kind"], float(r["lambda"]), r["seed"]) for r in rows] == [
    ("none", 0, "0"), ("l1(mode=prox)", 1e-3, "0"), ("l1(mode=prox)", 0.05, "0"),
    ("none", 0, "1"), ("l1(mode=prox)", 1e-3, "1"), ("l1(mode=prox)", 0.05, "1")], rows
assert all(r["inputs"] == "784" for r in rows), [r["inputs"] for r in rows]
assert int(rows[5]["dead_inputs"]) > 0, rows[5]  # λ = 0.05 switches pixels off
s = json.load(open(sys.argv[2]))
assert [m["reg"] for m in s["by_method"]] == ["none", "l1(lambd=0.001, mode=prox)", "l1(lambd=0.05, mode=prox)"], s["by_method"]
assert all(len(m["seeds"]) == 2 for m in s["by_method"])
PY
  then pass "--sweep --seeds: every point per seed, by_method per point"; else fail "--sweep --seeds" "exit $rc: $(tail -c 600 "$tmp/stderr")"; fi
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

# --- reliability (issue 11): full disks, odd paths, overflowing flags, hangs, exit codes --------
# tiny_mnist DIR BYTE: two 28x28 images per split whose every pixel is BYTE (octal, e.g. 001):
# trains in a blink; two folders with other BYTEs have the same shapes and other data.
tiny_mnist() {
  local dir=$1 byte=$2 set
  mkdir -p "$dir"
  for set in train t10k; do
    { printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c'; head -c 1568 /dev/zero | tr '\0' "\\$byte"; } \
      >"$dir/$set-images-idx3-ubyte"
    printf '\x00\x00\x08\x01\x00\x00\x00\x02\x07\x03' >"$dir/$set-labels-idx1-ubyte"
  done
}
# png_complete FILE: the PNG signature first and the IEND chunk last.
png_complete() {
  [[ -s $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a &&
     $(tail -c 12 "$1" | od -An -tx1 | tr -d ' \n') == 0000000049454e44ae426082 ]]
}
# no_debris DIR: no temporaries or gnuplot scratch folders left in DIR.
no_debris() { [[ -z $(find "$1" -name '*.tmp' -o -name '.plot.*' -o -name '.write_test' 2>/dev/null) ]]; }

tiny_a="$tmp/tiny_a" tiny_b="$tmp/tiny_b"
tiny_mnist "$tiny_a" 001
tiny_mnist "$tiny_b" 002
tiny=(--data "$tiny_a" --train-size 2)  # 20 epochs of one batch: a blink

# Overflowing and negative numbers: exit 2 naming the flag (were: SIGSEGV, SIGSEGV, seed 2^64-1).
expect "--epochs 2^64-1"            2 "--epochs"  -- "${tiny[@]}" --out "$out/x" --quiet --no-plots --epochs 18446744073709551615
expect "--hidden 2^62"              2 "--hidden"  -- "${tiny[@]}" --out "$out/x" --quiet --no-plots --hidden 4611686018427387904
expect "--seed -1"                  2 "--seed"    -- "${tiny[@]}" --out "$out/x" --quiet --no-plots --seed -1
expect "--train-size 1e30"          2 "--train-size" -- "${tiny[@]}" --out "$out/x" --quiet --no-plots --train-size 1000000000000000000000000000000
# Too large for this machine's memory: exit 6 naming the flag and the bytes, before any data is read.
expect "--hidden 1000000000 does not fit" 6 "--hidden 1000000000" -- "${tiny[@]}" --out "$out/x" --quiet --no-plots \
       --hidden 1000000000
# --model lenet counts its own activations: every conv, pool and dense output, the pools'
# argmax and the im2col columns, per sample of the batch, and their gradients (was: the MLP's
# hidden layer, 192 MB for a batch of 60000 that needs over 8 GB). Under a 4 GB address space a
# batch of 60000 is refused before any data is read; the same flags with --model mlp pass.
if ldd "$app" 2>/dev/null | grep -q libasan; then
  skip "--model lenet --batch-size 60000 under ulimit -v" "an AddressSanitizer build cannot start under ulimit -v"
else
  lenet_big=(--data "$tiny_a" --train-size 60000 --batch-size 60000 --out "$out/x" --quiet --no-plots)
  (ulimit -v 4000000 && exec timeout -k 5 60 "$app" --model lenet "${lenet_big[@]}") >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  verdict "--model lenet --batch-size 60000 under ulimit -v 4000000: exit 6" 6 "--batch-size 60000 with --model lenet"
  grep -qE "needs about [0-9.]+ GB .* [0-9.]+ GB activations" "$tmp/stderr" ||
    fail "--model lenet --batch-size 60000: the message gives the bytes" "stderr: $(cat "$tmp/stderr")"
  (ulimit -v 4000000 && exec timeout -k 5 60 "$app" --model mlp "${lenet_big[@]}") >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -ne 6 && $rc -ne 0 ]] && ! grep -q "the run needs about" "$tmp/stderr"; then
    pass "--model mlp with the same flags passes the memory check (exit $rc: $(head -c 200 "$tmp/stderr"))"
  else
    fail "--model mlp with the same flags passes the memory check" "exit $rc: $(head -c 400 "$tmp/stderr")"
  fi
fi
# --momentum reaches the optimizer (another loss curve than plain SGD) and summary.json.
"$app" "${tiny[@]}" --reg none --momentum 0.9 --out "$out/momentum" --quiet --no-plots >"$tmp/stdout" 2>"$tmp/stderr" &&
  "$app" "${tiny[@]}" --reg none --out "$out/plain" --quiet --no-plots >"$tmp/stdout" 2>>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 ]] && python3 - "$out/momentum/summary.json" "$out/plain/summary.json" <<'PY'
import json, sys
m, p = (json.load(open(f)) for f in sys.argv[1:3])
assert m["config"]["momentum"] == 0.9 and p["config"]["momentum"] == 0, (m["config"], p["config"])
lm, lp = ([e["data_loss"] for e in s["runs"][0]["epochs"]] for s in (m, p))
assert lm[0] == lp[0] and lm[-1] != lp[-1], (lm, lp)  # the first step has no velocity yet
PY
then
  pass "--momentum 0.9 trains with momentum and is in summary.json"
else
  fail "--momentum 0.9 trains with momentum and is in summary.json" "exit $rc: $(cat "$tmp/stderr")"
fi
# --optimizer and the methods' terms (issue 23): usage errors, then adam's default lr in summary.json.
expect "--optimizer lbfgs"             2 optimizer      -- "${common[@]}" --optimizer lbfgs
expect "--optimizer adam --momentum"   2 "sgd only"     -- "${common[@]}" --optimizer adam --momentum 0.9
expect "--reg mixup(alpha=0)"          2 "out of range" -- "${common[@]}" --reg 'mixup(alpha=0)'
expect "--reg sam(rho=-1)"             2 "out of range" -- "${common[@]}" --reg 'sam(rho=-1)'
"$app" "${tiny[@]}" --optimizer adam --reg 'weight_decay(lambd=0.01)+mixup(alpha=0.2)+sam(rho=0.05)' \
  --out "$out/adam" --quiet --no-plots >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 ]] && python3 - "$out/adam/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["config"]["optimizer"] == "adam" and s["config"]["lr"] == 0.001, s["config"]
assert s["runs"][0]["reg"] == "weight_decay(lambd=0.01)+mixup(alpha=0.2)+sam(rho=0.05)", s["runs"][0]["reg"]
PY
then
  pass "--optimizer adam with weight_decay+mixup+sam trains, lr 0.001 in summary.json"
else
  fail "--optimizer adam with weight_decay+mixup+sam trains, lr 0.001 in summary.json" "exit $rc: $(cat "$tmp/stderr")"
fi
# A batch larger than the subset is the whole subset (was: a batch count that overflowed).
"$app" "${tiny[@]}" --batch-size 1000000000 --out "$out/bigbatch" --quiet --no-plots >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 ]]; then pass "--batch-size 1000000000 on 2 images trains"; else fail "--batch-size 1000000000 on 2 images trains" "exit $rc: $(cat "$tmp/stderr")"; fi

# Standard output that cannot be written is an error, not a lost table.
"$app" "${tiny[@]}" --out "$out/devfull" --quiet --no-plots >/dev/full 2>"$tmp/stderr"
rc=$?
verdict "stdout on a full device (>/dev/full): exit 5" 5 "no space left on device"
"$app" "${tiny[@]}" --out "$out/closed" --quiet >&- 2>"$tmp/stderr"
rc=$?
verdict "stdout closed: exit 5 before training" 5 "standard output is closed"

# Data files that are not regular files are refused before they are opened (a FIFO blocked forever).
fifo_dir="$tmp/fifo_mnist"
tiny_mnist "$fifo_dir" 001
rm "$fifo_dir/train-labels-idx1-ubyte" && mkfifo "$fifo_dir/train-labels-idx1-ubyte"
timeout -k 5 30 "$app" --data "$fifo_dir" --train-size 2 --epochs 1 --out "$out/x" --quiet --no-plots \
  >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
verdict "a FIFO as an IDX file: exit 3 at once" 3 "FIFO"
mkfifo "$tmp/fifo.npz"
timeout -k 5 30 "$app" --data "$tmp/fifo.npz" --out "$out/x" --quiet --no-plots >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
verdict "a FIFO as --data .npz: exit 3 at once" 3 "FIFO"
loop_dir="$tmp/loop_mnist"
tiny_mnist "$loop_dir" 001
rm "$loop_dir/train-images-idx3-ubyte"
ln -s train-images-idx3-ubyte.gz "$loop_dir/train-images-idx3-ubyte"
ln -s train-images-idx3-ubyte "$loop_dir/train-images-idx3-ubyte.gz"
expect "a symlink loop is reported as such" 3 "symlink loop" -- --data "$loop_dir" --train-size 2 --epochs 1 \
       --out "$out/x" --quiet --no-plots
ln -s loop2 "$tmp/loop1" && ln -s loop1 "$tmp/loop2"
expect "--data a symlink loop" 3 "symlink loop" -- --data "$tmp/loop1" --out "$out/x" --quiet --no-plots

# --dump-graph failures name the flag and the reason; exit 5 (output).
expect "--dump-graph into a non-folder" 5 "--dump-graph" -- "${tiny[@]}" --out "$out/x" --quiet --no-plots \
       --dump-graph "$tmp/a_file/step.dot"

# Checkpoints: the data's identity, the model's shape, and existing checkpoints.
"$app" "${tiny[@]}" --epochs 1 --reg none --checkpoint "$tmp/ck_data" --out "$out/ck_data" --quiet --no-plots \
  >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 ]]; then pass "tiny run with --checkpoint"; else fail "tiny run with --checkpoint" "exit $rc: $(cat "$tmp/stderr")"; fi
expect "--resume on other data of the same shapes" 2 "other data" -- --data "$tiny_b" --train-size 2 --epochs 2 \
       --reg none --checkpoint "$tmp/ck_data" --out "$out/ck_data" --quiet --no-plots --resume
expect "--resume with another --hidden" 2 "--resume" -- "${tiny[@]}" --epochs 2 --hidden 16 --reg none \
       --checkpoint "$tmp/ck_data" --out "$out/ck_data" --quiet --no-plots --resume
expect "--checkpoint over existing checkpoints without --resume" 2 "--overwrite" -- "${tiny[@]}" --epochs 1 --reg none \
       --checkpoint "$tmp/ck_data" --out "$out/ck_data" --quiet --no-plots
before=$(params_of "$tmp/ck_data/none.ckpt.npz")
"$app" "${tiny[@]}" --epochs 2 --reg none --checkpoint "$tmp/ck_data" --out "$out/ck_data" --quiet --no-plots \
  --resume >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 && $(params_of "$tmp/ck_data/none.ckpt.npz") != "$before" ]]; then
  pass "--resume on the same data continues"
else
  fail "--resume on the same data continues" "exit $rc: $(cat "$tmp/stderr")"
fi
"$app" "${tiny[@]}" --reg none --checkpoint "$tmp/ck_data" --out "$out/ck_data" --quiet --no-plots --overwrite \
  >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 ]]; then pass "--overwrite starts afresh over existing checkpoints"; else fail "--overwrite starts afresh" "exit $rc: $(cat "$tmp/stderr")"; fi

# Checkpoints are named by the run's spec, not its place in the --reg list (issue 19: after
# the list was reordered or edited, --resume restarted finished runs at epoch 1 while their
# checkpoints sat under another index, e.g. 2-dropout_p_0.5.ckpt.npz).
# retrained SUMMARY_BEFORE SUMMARY_AFTER SPEC...: the runs SPEC of AFTER whose epochs' timings
# differ from BEFORE's (a run resumed from a finished checkpoint keeps its recorded timings).
retrained() {
  python3 - "$@" <<'PY'
import json, sys
runs = lambda p: {r["reg"]: [e["seconds"] for e in r["epochs"]] for r in json.load(open(p))["runs"]}
before, after = runs(sys.argv[1]), runs(sys.argv[2])
print(" ".join(s for s in sys.argv[3:] if before.get(s) != after.get(s)))
PY
}
# --seeds with --checkpoint: one file per spec and seed ("none seed=1" → none_seed_1.ckpt.npz);
# --resume finds both and retrains neither (every epoch's timing kept).
"$app" "${tiny[@]}" --epochs 2 --quiet --no-plots --reg none --seeds 0,1 --checkpoint "$tmp/ck_seeds" \
  --out "$out/ck_seeds" >"$tmp/stdout" 2>"$tmp/stderr" && cp "$out/ck_seeds/summary.json" "$tmp/seeds_summary.json" &&
  "$app" "${tiny[@]}" --epochs 2 --quiet --no-plots --reg none --seeds 0,1 --checkpoint "$tmp/ck_seeds" \
    --out "$out/ck_seeds" --resume >"$tmp/stdout" 2>>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 && -f $tmp/ck_seeds/none_seed_0.ckpt.npz && -f $tmp/ck_seeds/none_seed_1.ckpt.npz ]] &&
   python3 - "$tmp/seeds_summary.json" "$out/ck_seeds/summary.json" <<'PY'
import json, sys
runs = lambda p: [(r["seed"], [e["seconds"] for e in r["epochs"]]) for r in json.load(open(p))["runs"]]
before, after = runs(sys.argv[1]), runs(sys.argv[2])
assert [s for s, _ in before] == [0, 1] and before == after, (before, after)
PY
then
  pass "--seeds --checkpoint: a file per spec and seed; --resume retrains neither"
else
  fail "--seeds --checkpoint: a file per spec and seed; --resume retrains neither" "exit $rc: $(cat "$tmp/stderr")" \
       "$(ls "$tmp/ck_seeds" 2>&1)"
fi
ks=("${tiny[@]}" --epochs 2 --quiet --no-plots)
"$app" "${ks[@]}" --reg none --reg 'dropout(p=0.5)' --checkpoint "$tmp/ck_key" --out "$out/ck_key" \
  >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 && -f $tmp/ck_key/none.ckpt.npz && -f $tmp/ck_key/dropout_p_0.5.ckpt.npz ]]; then
  pass "--checkpoint names each file by its run's spec: none.ckpt.npz, dropout_p_0.5.ckpt.npz"
else
  fail "--checkpoint names each file by its run's spec" "exit $rc: $(cat "$tmp/stderr")" "$(ls "$tmp/ck_key")"
fi
cp "$out/ck_key/summary.json" "$tmp/key_summary.json"
"$app" "${ks[@]}" --reg 'dropout(p=0.5)' --reg none --checkpoint "$tmp/ck_key" --out "$out/ck_key" --resume \
  >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
again=$(retrained "$tmp/key_summary.json" "$out/ck_key/summary.json" 'dropout(p=0.5)' none)
if [[ $rc -eq 0 && -z $again && ! -s $tmp/stderr ]]; then
  pass "--resume after the --reg list was reordered: no finished run is retrained"
else
  fail "--resume after the --reg list was reordered" "exit $rc, retrained: ${again:-no run}" "$(cat "$tmp/stderr")"
fi
"$app" "${ks[@]}" --reg 'l2(lambd=0.01)' --reg 'dropout(p=0.5)' --checkpoint "$tmp/ck_key" --out "$out/ck_key" \
  --resume >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
again=$(retrained "$tmp/key_summary.json" "$out/ck_key/summary.json" 'dropout(p=0.5)')
lines=$(grep -c '' "$tmp/stderr")
if [[ $rc -eq 0 && -z $again && -f $tmp/ck_key/l2_lambd_0.01.ckpt.npz && $lines -eq 1 ]] &&
   grep -q "no run of this invocation claims none.ckpt.npz" "$tmp/stderr"; then
  pass "--resume after the list was edited: the kept run resumes, the new one trains, the orphan is named ($(cat "$tmp/stderr"))"
else
  fail "--resume after the --reg list was edited" "exit $rc, retrained: ${again:-no run}" "$(cat "$tmp/stderr")"
fi
# Checkpoints named by position (before issue 19) are renamed to their run's name by --resume;
# one that no run claims is named, never silently ignored. (The files' contents did not change.)
mkdir -p "$tmp/ck_old"
cp "$tmp/ck_key/none.ckpt.npz" "$tmp/ck_old/2-none.ckpt.npz"
cp "$tmp/ck_key/dropout_p_0.5.ckpt.npz" "$tmp/ck_old/1-dropout_p_0.5.ckpt.npz"
cp "$tmp/ck_key/l2_lambd_0.01.ckpt.npz" "$tmp/ck_old/3-l2_lambd_0.01.ckpt.npz"
expect "--checkpoint over checkpoints named by position, without --resume" 2 "2-none.ckpt.npz" -- "${ks[@]}" \
       --reg none --checkpoint "$tmp/ck_old" --out "$out/ck_old"
"$app" "${ks[@]}" --reg none --reg 'dropout(p=0.5)' --checkpoint "$tmp/ck_old" --out "$out/ck_old" --resume \
  >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
again=$(retrained "$tmp/key_summary.json" "$out/ck_old/summary.json" 'dropout(p=0.5)' none)
lines=$(grep -c '' "$tmp/stderr")
if [[ $rc -eq 0 && -z $again && $lines -eq 1 && -f $tmp/ck_old/none.ckpt.npz && -f $tmp/ck_old/dropout_p_0.5.ckpt.npz &&
      ! -e $tmp/ck_old/2-none.ckpt.npz && -f $tmp/ck_old/3-l2_lambd_0.01.ckpt.npz ]] &&
   grep -q "2-none.ckpt.npz -> none.ckpt.npz, 1-dropout_p_0.5.ckpt.npz -> dropout_p_0.5.ckpt.npz" "$tmp/stderr" &&
   grep -q "claims 3-l2_lambd_0.01.ckpt.npz" "$tmp/stderr"; then
  pass "--resume over checkpoints named by position: renamed, resumed, the unclaimed one named ($(cat "$tmp/stderr"))"
else
  fail "--resume over checkpoints named by position" "exit $rc, retrained: ${again:-no run}" "$(cat "$tmp/stderr")" \
       "$(ls "$tmp/ck_old")"
fi
# The same spec twice: one checkpoint each (none, none#2), not one file shared by both.
"$app" "${tiny[@]}" --epochs 1 --quiet --no-plots --reg none --reg none --checkpoint "$tmp/ck_twice" \
  --out "$out/ck_twice" >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [[ $rc -eq 0 && -f $tmp/ck_twice/none.ckpt.npz && -f "$tmp/ck_twice/none#2.ckpt.npz" ]]; then
  pass "--reg none --reg none: none.ckpt.npz and none#2.ckpt.npz"
else
  fail "--reg none --reg none: one checkpoint each" "exit $rc: $(cat "$tmp/stderr")" "$(ls "$tmp/ck_twice")"
fi

if command -v gnuplot >/dev/null 2>&1; then
  # An apostrophe (and a double quote) in --out: every plot written, and the "wrote" line true.
  odd="$tmp/it's a \"folder\""
  "$app" "${tiny[@]}" --out "$odd" --quiet >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 && ! -s $tmp/stderr ]] && png_complete "$odd/loss.png" && png_complete "$odd/weights.png" &&
     png_complete "$odd/pixels.png" && grep -q "loss.png, weights.png, pixels.png" "$tmp/stdout" && no_debris "$odd"; then
    pass "--out with an apostrophe: loss.png, weights.png, pixels.png complete"
  else
    fail "--out with an apostrophe: loss.png, weights.png, pixels.png complete" "exit $rc: $(cat "$tmp/stderr")" \
         "$(ls -la "$odd" 2>&1)"
  fi

  # gnuplot failing: exit 5, its status decoded and its words on stderr, nothing of it on stdout.
  fakebin="$tmp/fakebin"
  mkdir -p "$fakebin"
  printf '#!/bin/sh\necho "gnuplot junk on stdout"\necho "gnuplot: it broke" >&2\nexit 3\n' >"$fakebin/gnuplot"
  chmod +x "$fakebin/gnuplot"
  cp "$odd/loss.png" "$tmp/good_loss.png"
  mkdir -p "$out/fake" && cp "$tmp/good_loss.png" "$out/fake/loss.png"
  # (From $tmp: a gnuplot run in the working folder, as before, would leave its files there.)
  (cd "$tmp" && PATH="$fakebin:$PATH" exec "$app" "${tiny[@]}" --out "$out/fake" --quiet) >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  verdict "gnuplot fails: exit 5 with its exit status decoded" 5 "gnuplot failed (exit status 3)"
  if ! grep -q "junk\|wrote" "$tmp/stdout" && cmp -s "$out/fake/loss.png" "$tmp/good_loss.png" && no_debris "$out/fake"; then
    pass "gnuplot fails: nothing of it on stdout, no 'wrote' line, the old loss.png kept"
  else
    fail "gnuplot fails: nothing of it on stdout, no 'wrote' line, the old loss.png kept" "$(cat "$tmp/stdout")"
  fi
  # gnuplot "succeeding" with a truncated PNG (what it does on a full disk): refused, old file kept.
  printf '#!/bin/sh\nprintf "\\211PNG\\r\\n\\032\\n" >loss.png\n: >weights.png\nexit 0\n' >"$fakebin/gnuplot"
  (cd "$tmp" && PATH="$fakebin:$PATH" exec "$app" "${tiny[@]}" --out "$out/fake" --quiet) >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  verdict "gnuplot exits 0 with a truncated PNG: exit 5" 5 "incomplete PNG"
  if cmp -s "$out/fake/loss.png" "$tmp/good_loss.png" && no_debris "$out/fake"; then
    pass "truncated PNG: the old loss.png kept, no debris"
  else
    fail "truncated PNG: the old loss.png kept, no debris" "$(ls -la "$out/fake")"
  fi

  # SIGTERM while gnuplot draws: the plot in progress is finished and verified, then exit 143.
  printf '#!/bin/sh\nsleep 2\nexec %s "$@"\n' "$(command -v gnuplot)" >"$fakebin/gnuplot"
  PATH="$fakebin:$PATH" "$app" "${tiny[@]}" --out "$out/sigplot" --quiet >"$tmp/stdout" 2>"$tmp/stderr" &
  pid=$!
  for _ in $(seq 600); do [[ -n $(find "$out/sigplot" -name '.plot.*' 2>/dev/null) ]] && break; sleep 0.05; done
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  verdict "SIGTERM during the plots: exit 143 after the plot in progress" 143 "SIGTERM"
  if png_complete "$out/sigplot/loss.png" && [[ ! -e $out/sigplot/pixels.png ]] && no_debris "$out/sigplot"; then
    pass "SIGTERM during the plots: loss.png complete, pixels.png not started, no debris"
  else
    fail "SIGTERM during the plots: loss.png complete, pixels.png not started, no debris" "$(ls -la "$out/sigplot")"
  fi

  # A full disk (a 130 KiB tmpfs): exit 5 naming the file and ENOSPC; every file there is whole.
  disk="$tmp/disk"
  mkdir -p "$disk"
  if mount -t tmpfs -o size=130k tmpfs "$disk" 2>/dev/null; then
    mounted+=("$disk")
    "$app" "${tiny[@]}" --out "$disk/out" --quiet >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    verdict "--out on a full 130k tmpfs: exit 5" 5 "no space left on device"
    bad_png=""
    for f in "$disk"/out/*.png; do [[ -e $f ]] && ! png_complete "$f" && bad_png+=" $f"; done
    if [[ -z $bad_png ]] && no_debris "$disk/out" &&
       python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$disk/out/summary.json" 2>/dev/null; then
      pass "full disk: every PNG under its final name is complete, summary.json parses, no debris"
    else
      fail "full disk: every PNG under its final name is complete, summary.json parses, no debris" \
           "incomplete:$bad_png" "$(ls -la "$disk/out")"
    fi
    # Good plots, then a rerun with ~60 KB free: the good files stay as they were.
    rm -rf "${disk:?}"/*
    "$app" "${tiny[@]}" --out "$disk/good" --quiet --reg none >"$tmp/stdout" 2>"$tmp/stderr"
    cp -r "$disk/good" "$tmp/good_copy"
    avail=$(df --output=avail -B1 "$disk" | tail -n1)
    if ((avail > 60000)); then head -c $((avail - 60000)) /dev/zero >"$disk/filler" 2>/dev/null; fi
    "$app" "${tiny[@]}" --epochs 2 --reg none --reg 'l1(lambd=1e-4)' --reg 'l2(lambd=0.01)' --out "$disk/good" --quiet \
      >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    changed=""
    for f in loss.png weights.png pixels.png; do
      if [[ -e $tmp/good_copy/$f ]] && ! cmp -s "$disk/good/$f" "$tmp/good_copy/$f"; then
        png_complete "$disk/good/$f" || changed+=" $f"
      fi
    done
    if [[ $rc -eq 5 && -z $changed ]] && no_debris "$disk/good"; then
      pass "rerun with 60 KB free: exit 5, each plot either the old one or a complete new one ($(cat "$tmp/stderr"))"
    else
      fail "rerun with 60 KB free: exit 5, each plot either the old one or a complete new one" "exit $rc" \
           "broken:$changed" "$(cat "$tmp/stderr")"
    fi
    rm -rf "${disk:?}"/*
    # No room at all: the first result file fails, named with the reason (was "write failed").
    head -c 1M /dev/zero >"$disk/filler" 2>/dev/null
    expect "summary.json on a full disk names the reason" 5 "summary.json: cannot write (no space left on device)" \
           -- "${tiny[@]}" --out "$disk/nospace" --quiet
    rm -rf "${disk:?}"/*
    # A checkpoint that does not fit: exit 5 (was 3, the code of bad input data), naming --checkpoint.
    expect "--checkpoint on a full disk" 5 "--checkpoint" -- "${tiny[@]}" --reg none --checkpoint "$disk/ck" \
           --out "$out/ckfull" --quiet --no-plots
  else
    skip "--out on a full tmpfs" "cannot mount a tmpfs here (needs root)"
  fi
else
  skip "plots: apostrophes, gnuplot failures, full disks" "gnuplot is not installed"
fi

# Memory limits: a clear message and exit 6, fast, instead of a hang in OpenBLAS or a bare
# std::bad_alloc.
if ldd "$app" 2>/dev/null | grep -q libasan; then
  skip "ulimit -v 200000" "an AddressSanitizer build cannot start under ulimit -v (its shadow memory)"
else
  (ulimit -v 200000 && exec timeout -k 5 60 "$app" "${tiny[@]}" --out "$out/x" --quiet --no-plots) \
    >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  verdict "ulimit -v 200000 (200 MB): exit 6 naming the need and the limit" 6 "ulimit -v"
fi

# scripts/mnist.sh: a user's --data wins and nothing is downloaded (was: CLI11's "At Most 1
# required but received 2", since the wrapper always added its own --data).
mnist_sh="$(dirname "$0")/../../scripts/mnist.sh"
for form in "--data $tiny_a" "--data=$tiny_a"; do
  # shellcheck disable=SC2086
  steps=$(XTGRAD_DRY_RUN=1 bash "$mnist_sh" $form --epochs 1 2>&1)
  if ! grep -q fetch_mnist <<<"$steps" && [[ $(grep -o -- '--data' <<<"$steps" | wc -l) -eq 1 ]] &&
     grep -qF -- "$tiny_a" <<<"$steps"; then
    pass "scripts/mnist.sh $form: the user's data, no download"
  else
    fail "scripts/mnist.sh $form: the user's data, no download" "$steps"
  fi
done
steps=$(XTGRAD_DRY_RUN=1 bash "$mnist_sh" --epochs 1 2>&1)
if grep -q "fetch_mnist.sh data/mnist" <<<"$steps" && grep -q -- "--data data/mnist --epochs 1" <<<"$steps"; then
  pass "scripts/mnist.sh without --data fetches MNIST and uses it"
else
  fail "scripts/mnist.sh without --data fetches MNIST and uses it" "$steps"
fi

# --seeds: every spec once per seed, seed-major; a seed's run is exactly the --seed run (its
# own subset, weights and order); summary.json's by_method has the means, t-intervals and
# paired differences from none, and the table shows them. Per run: ECE, test NLL, the top
# Hessian eigenvalue and the weights' statistics.
if needs_mnist "--seeds"; then
  seeded=(--data "$mnist" --train-size 300 --epochs 2 --reg none --reg 'l2(lambd=0.01)' --no-plots --eval-fgsm 0.1)
  "$app" "${seeded[@]}" --seeds 0,1,2 --out "$out/seeds" >"$tmp/seeds_stdout" 2>"$tmp/stderr" &&
    "$app" "${seeded[@]}" --seed 1 --out "$out/seed1" --quiet >"$tmp/stdout" 2>>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 - "$out/seeds/summary.json" "$out/seed1/summary.json" "$out/seeds/history.csv" <<'PY'
import csv, json, math, sys
s, one = (json.load(open(f)) for f in sys.argv[1:3])
runs = s["runs"]
assert s["config"]["seeds"] == [0, 1, 2], s["config"]
assert [(r["seed"], r["reg"]) for r in runs] == [(k, m) for k in (0, 1, 2) for m in ("none", "l2(lambd=0.01)")], \
    [(r["seed"], r["reg"]) for r in runs]
strip = lambda r: ([e["data_loss"] for e in r["epochs"]], r["test_accuracy"], r["ece"], r["hessian_top_eigenvalue"])
assert [strip(r) for r in runs[2:4]] == [strip(r) for r in one["runs"]], "seed 1's runs differ from --seed 1's"
assert runs[0]["epochs"][0]["data_loss"] != runs[2]["epochs"][0]["data_loss"], "seeds 0 and 1 trained alike"
for r in runs:
    assert 0 < r["ece"] < 1 and r["test_nll"] > 0, (r["ece"], r["test_nll"])
    assert r["hessian"]["iterations"] == 20 and math.isfinite(r["hessian_top_eigenvalue"]), r["hessian"]
    assert r["hessian_top_eigenvalue"] > 0, r["hessian_top_eigenvalue"]
    assert sum(b["count"] for b in r["calibration_bins"]) == 10000 and len(r["calibration_bins"]) == 15
    w = {t["tensor"]: t for t in r["weights"]}
    assert w["fc1.weight"]["units"] == 200 and w["fc1.weight"]["count"] == 200 * 784, w["fc1.weight"]
    assert r["dead_hidden_units"] == w["fc1.weight"]["dead_units"]
by = {m["reg"]: m for m in s["by_method"]}
assert set(by) == {"none", "l2(lambd=0.01)"}, list(by)
acc = [[r["test_accuracy"] for r in runs if r["reg"] == m] for m in ("none", "l2(lambd=0.01)")]
for m, a in zip(("none", "l2(lambd=0.01)"), acc):
    e = by[m]
    assert e["test_accuracy"] == a and abs(e["test_accuracy_mean"] - sum(a) / 3) < 1e-12, e
    sd = math.sqrt(sum((x - sum(a) / 3) ** 2 for x in a) / 2)
    lo, hi = e["test_accuracy_ci95"]
    assert abs((hi - lo) / 2 - 4.302652730 * sd / math.sqrt(3)) < 1e-9, (lo, hi, sd)  # t(0.975, 2)
assert by["none"]["paired_difference_ci95"] is None
d = by["l2(lambd=0.01)"]["paired_difference_ci95"]
diffs = [x - y for x, y in zip(acc[1], acc[0])]
assert d["vs"] == "none" and abs(d["mean"] - sum(diffs) / 3) < 1e-12, d
assert d["excludes_zero"] == (d["ci95"][0] > 0 or d["ci95"][1] < 0), d
for key in ("ece_ci95", "test_nll_paired_difference_ci95", "hessian_top_eigenvalue_mean"):
    assert key in by["l2(lambd=0.01)"], key
f = by["l2(lambd=0.01)"]["fgsm_test_accuracy"]
fa = [r["fgsm_test_accuracy"][0]["test_accuracy"] for r in runs if r["reg"] == "l2(lambd=0.01)"]
assert len(f) == 1 and f[0]["eps"] == 0.1 and f[0]["test_accuracy"] == fa and f[0]["paired_difference_ci95"]["vs"] == "none", f
rows = list(csv.DictReader(open(sys.argv[3])))
assert [r["seed"] for r in rows] == ["0"] * 4 + ["1"] * 4 + ["2"] * 4, [r["seed"] for r in rows]
PY
  then
    pass "--seeds 0,1,2: seed-major runs, seed 1 = --seed 1, by_method intervals and paired differences"
  else
    fail "--seeds 0,1,2: seed-major runs, seed 1 = --seed 1, by_method intervals and paired differences" \
         "exit $rc: $(cat "$tmp/stderr")"
  fi
  if grep -q "over 3 seeds (0,1,2)" "$tmp/seeds_stdout" && grep -qE '^l2\(lambd=0.01\) +0\.[0-9]{4} ± 0\.[0-9]{4} +[-+]0\.[0-9]{4} \[' "$tmp/seeds_stdout"; then
    pass "--seeds: the table shows mean ± CI and the paired difference"
  else
    fail "--seeds: the table shows mean ± CI and the paired difference" "$(tail -n 12 "$tmp/seeds_stdout")"
  fi
fi

if needs_mnist "divergence without an overflow"; then
  # lr 1e10 and 1e30 kept the loss finite (~1e31), so nothing overflowed and the run was saved
  # as a result; the epoch's mean loss above 10·ln(10) now counts as diverged.
  expect "--lr 1e10 diverges" 4 "diverged" -- "${common[@]}" --lr 1e10 --epochs 1 --train-size 512 --reg none
  expect "--lr 1e30 with l1 diverges" 4 "diverged" -- "${common[@]}" --lr 1e30 --epochs 1 --train-size 512 \
         --reg 'l1(lambd=1e-4)'
fi

# --- group lasso and --prune (issue 23 §1) ---------------------------------------------------
expect "--reg group_lasso(groups=rows)" 2 "not units or inputs" -- "${common[@]}" --reg 'group_lasso(lambd=1e-3, groups=rows)'
expect "--sweep group_lasso(lambd=1)"   2 "--sweep"             -- "${common[@]}" --sweep 'group_lasso(lambd=1)'
if needs_mnist "--prune"; then
  # a λ that kills most units in one epoch: the pruned model is smaller, predicts the same
  "$app" --data "$mnist" --train-size 512 --epochs 1 --reg 'group_lasso(lambd=0.05, mode=prox)' --prune --quiet \
         --no-plots --out "$out/prune" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -eq 0 ]] && python3 - "$out/prune/summary.json" "$out/prune/pruned.npz" <<'PY'
import json, sys, zipfile
p = json.load(open(sys.argv[1]))["runs"][0]["pruned"]
assert p["hidden_units"]["unpruned"] == 200 and p["hidden_units"]["pruned"] < 200, p["hidden_units"]
assert p["parameters"]["pruned"] < p["parameters"]["unpruned"], p["parameters"]
assert p["changed_predictions"] == 0 and p["test_accuracy"]["pruned"] == p["test_accuracy"]["unpruned"], p
assert set(p["inference_us_per_image"]) == {"batch_1", "batch_256"}, p["inference_us_per_image"]
names = sorted(zipfile.ZipFile(sys.argv[2]).namelist())
assert names == ["fc1.bias.npy", "fc1.weight.npy", "fc2.bias.npy", "fc2.weight.npy"], names
PY
  then pass "--prune writes pruned.npz and summary.json's pruned"; else fail "--prune writes pruned.npz and summary.json's pruned" "exit $rc: $(cat "$tmp/stderr")"; fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
