#!/usr/bin/env bash
# The lab table of docs/results.md: every regularizer the app has, over 5 paired seeds, with
# 95% t-intervals, paired differences from no penalty, calibration, sharpness and FGSM accuracy.
# One app invocation per model and data set (`--seeds`: within a seed all methods share the
# subset, initial weights and batch order); each writes its own report.html.
# Usage: scripts/lab_table.sh [BUILD_DIR] [OUT_DIR]
# Environment: MODELS (default "mlp lenet"), DATASETS (default "mnist fashion-mnist"), SEEDS
# (default 0,1,2,3,4), THREADS (default: the app's), MLP_FLAGS (default: the blog's settings),
# LENET_FLAGS (default "--train-size 5000 --epochs 10 --lr 0.01 --momentum 0.9", as
# scripts/regularizers_table.sh). Under `mpirun -np R` the app spreads seeds × methods over ranks.
# Each run keeps a checkpoint in OUT_DIR/<data set>-<model>/checkpoints: run the script again after
# an interruption and the finished runs are read back, not retrained.
set -euo pipefail
build=${1:-build}
out=${2:-results/lab}
app="$build/apps/mnist_regularization/mnist_regularization"
mnist=${XTGRAD_MNIST_DIR:-data/mnist}
export OPENBLAS_NUM_THREADS=1
read -r -a mlp_flags <<<"${MLP_FLAGS:-}"
read -r -a lenet_flags <<<"${LENET_FLAGS:---train-size 5000 --epochs 10 --lr 0.01 --momentum 0.9}"
threads=()
[[ -n ${THREADS:-} ]] && threads=(--threads "$THREADS")
methods=(
  --reg none --reg 'l2(lambd=0.01)' --reg 'l1(lambd=0.0001)' --reg 'l1(lambd=0.0001, mode=prox)'
  --reg 'group_lasso(lambd=0.0001, mode=prox)' --reg 'weight_decay(lambd=0.01)'
  --reg 'dropout(p=0.5)' --reg 'maxnorm(c=1)' --reg 'noise(std=0.3)' --reg 'label_smoothing(eps=0.1)'
  --reg 'early_stopping(patience=3)' --reg 'adversarial(eps=0.1)' --reg 'input_grad(lambd=1)'
  --reg 'mixup(alpha=0.2)' --reg 'sam(rho=0.05)'
)
for model in ${MODELS:-mlp lenet}; do
  for dataset in ${DATASETS:-mnist fashion-mnist}; do
    data=()
    [[ $dataset == mnist ]] && data=(--data "$mnist")
    flags=("${mlp_flags[@]}")
    [[ $model == lenet ]] && flags=("${lenet_flags[@]}")
    start=$SECONDS
    "$app" --model "$model" --dataset "$dataset" "${data[@]}" --seeds "${SEEDS:-0,1,2,3,4}" --eval-fgsm 0.1 \
           --quiet --report --out "$out/$dataset-$model" "${threads[@]}" \
           --checkpoint "$out/$dataset-$model/checkpoints" --resume "${methods[@]}" "${flags[@]}" >/dev/null
    echo "$((SECONDS - start))" >"$out/$dataset-$model/wall_seconds"
  done
done
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def interval(row, key, diff=None):
    m, ci = row.get(key + "_mean"), row.get(key + "_ci95")
    return "–" if m is None else f"{m:.4f} ± {(ci[1] - ci[0]) / 2:.4f}"
def difference(d):
    if not d or "ci95" not in d: return ""
    lo, hi = d["ci95"]
    return f"{d['mean']:+.4f} [{lo:+.4f}, {hi:+.4f}]" + (" *" if d.get("excludes_zero") else "")
for name in sorted(os.listdir(out)):
    path = os.path.join(out, name, "summary.json")
    if not os.path.exists(path): continue
    s = json.load(open(path))
    wall = open(os.path.join(out, name, "wall_seconds")).read().strip()
    c = s["config"]
    print(f"\n{name}: {len(s['by_method'])} methods × {len(s['by_method'][0]['seeds'])} seeds, "
          f"{c['train_size']} images, {c['epochs']} epochs, {c['threads']} thread(s), {wall} s wall\n")
    print("| method | test acc | − none [95% CI] | ECE | test NLL | top eig H | FGSM ε=0.1 | − none [95% CI] | dead units |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in s["by_method"]:
        f = (r.get("fgsm_test_accuracy") or [{}])[0]
        fg = "–" if "mean" not in f else f"{f['mean']:.4f} ± {(f['ci95'][1] - f['ci95'][0]) / 2:.4f}"
        dead = sum(r.get("dead_hidden_units", [])) / max(1, len(r.get("dead_hidden_units", [])))
        print(f"| {r['reg']} | {interval(r, 'test_accuracy')} | {difference(r.get('paired_difference_ci95'))} | "
              f"{interval(r, 'ece')} | {interval(r, 'test_nll')} | {interval(r, 'hessian_top_eigenvalue')} | "
              f"{fg} | {difference(f.get('paired_difference_ci95'))} | {dead:.1f} |")
PY
