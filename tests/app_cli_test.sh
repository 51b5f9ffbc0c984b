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

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
