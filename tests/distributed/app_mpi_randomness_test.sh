#!/usr/bin/env bash
# mnist_regularization's per-sample randomness under mpirun: with dropout masks and Gaussian
# input noise, N ranks with global batch B train the same model as one process with batch B
# (each sample's draw depends on its place in the global batch, not on the rank that holds
# it). Compares every epoch's data loss and test accuracy and the final train accuracy in
# summary.json to 1e-5 relative (the float sums' order differs between 1 and N ranks).
# `none` is the control: it has no randomness and must pass whatever the draws do.
# Usage: app_mpi_randomness_test.sh APP_BINARY MNIST_DIR MPIEXEC [MPIEXEC_FLAGS...]
# Needs MNIST; without it the test is skipped (ctest: exit 77).
set -u

source "$(dirname "${BASH_SOURCE[0]}")/app_test_setup.sh" "$@"

# Each run's numbers of a summary.json against another's: 1e-5 relative, or the first mismatch.
same_numbers() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def numbers(path):
    out = {}
    for run in json.load(open(path))["runs"]:
        for e in run["epochs"]:
            out[(run["reg"], e["epoch"], "data_loss")] = e["data_loss"]
            out[(run["reg"], e["epoch"], "test_accuracy")] = e["test_accuracy"]
        out[(run["reg"], "final", "train_accuracy")] = run["train_accuracy"]
    return out
a, b = numbers(sys.argv[1]), numbers(sys.argv[2])
assert a.keys() == b.keys() and a, "the runs or epochs differ"
worst = 0.0
for k in a:
    rel = abs(a[k] - b[k]) / max(abs(b[k]), 1e-30)
    worst = max(worst, rel)
    if rel > 1e-5:
        print(f"{k[0]} epoch {k[1]} {k[2]}: {b[k]!r} (1 process) vs {a[k]!r}")
        sys.exit(1)
print(f"largest relative difference {worst:.2g}")
PY
}

# Small runs: 1,000 images (16 batches of 64, the last of 40), 2 epochs; each method alone,
# and dropout with FGSM (a second forward pass in the same step, drawing a second mask).
regs=(none 'dropout(p=0.5)' 'noise(std=0.3)' 'dropout(p=0.5)+adversarial(eps=0.1)')
small=(--data "$mnist" --train-size 1000 --epochs 2 --quiet --no-plots)
for r in "${regs[@]}"; do small+=(--reg "$r"); done
"$app" "${small[@]}" --out "$tmp/one" >/dev/null 2>"$tmp/one.err" || {
  echo "FAIL - the single process: $(head -c 600 "$tmp/one.err")"; exit 1; }
for ranks in 2 3; do
  timeout 120 "${mpirun[@]}" -np "$ranks" "$app" "${small[@]}" --out "$tmp/r$ranks" >/dev/null 2>"$tmp/r$ranks.err"
  rc=$?
  for r in "${regs[@]}"; do
    # One run's numbers: keep only that run in both files.
    python3 - "$tmp/one/summary.json" "$tmp/r$ranks/summary.json" "$r" "$tmp/a.json" "$tmp/b.json" <<'PY' 2>/dev/null
import json, sys
for src, dst in ((sys.argv[1], sys.argv[4]), (sys.argv[2], sys.argv[5])):
    d = json.load(open(src))
    d["runs"] = [run for run in d["runs"] if run["reg"] == sys.argv[3]]
    json.dump(d, open(dst, "w"))
PY
    if [[ $rc -eq 0 ]] && out=$(same_numbers "$tmp/b.json" "$tmp/a.json" 2>&1); then
      pass "$ranks ranks train like 1 process with $r: $out"
    else
      fail "$ranks ranks train like 1 process with $r" "exit $rc" "${out:-}" "$(head -c 600 "$tmp/r$ranks.err")"
    fi
  done
done

# 961 images: the last batch of each epoch has 1 row, so ranks 1 and 2 of 3 draw nothing for
# it; the app reseeds the draws at each epoch start, so epoch 2 must still match.
edge=(--data "$mnist" --train-size 961 --epochs 2 --quiet --no-plots --reg 'dropout(p=0.5)+noise(std=0.3)')
"$app" "${edge[@]}" --out "$tmp/edge1" >/dev/null 2>"$tmp/edge1.err"
timeout 120 "${mpirun[@]}" -np 3 "$app" "${edge[@]}" --out "$tmp/edge3" >/dev/null 2>"$tmp/edge3.err"
rc=$?
if [[ $rc -eq 0 ]] && out=$(same_numbers "$tmp/edge3/summary.json" "$tmp/edge1/summary.json" 2>&1); then
  pass "3 ranks with empty shards in each epoch's last batch train like 1 process: $out"
else
  fail "3 ranks with empty shards in each epoch's last batch" "exit $rc" "${out:-}" "$(head -c 600 "$tmp/edge3.err")"
fi

echo "$passed passed, $failed failed"
((failed == 0))
