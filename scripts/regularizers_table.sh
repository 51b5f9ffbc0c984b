#!/usr/bin/env bash
# The regularizer table of docs/results.md: the chapter's methods side by side, seed 0, with FGSM test
# accuracy at eps 0.05, 0.1, 0.2, on MNIST and Fashion-MNIST, for the blog's 784-200-10 sigmoid
# MLP (SGD lr 0.1) and for LeNet (SGD lr 0.01 with momentum 0.9: with plain SGD at lr 0.1 its
# test accuracy dropped by up to 18 points from one epoch to the next), batch 64 for both.
# Usage: scripts/regularizers_table.sh [BUILD_DIR] [OUT_DIR]
# Environment: MODELS (default "mlp lenet"), MLP_FLAGS (default: none, i.e. the app's defaults,
# --train-size 20000 --epochs 20) and LENET_FLAGS (default "--train-size 5000 --epochs 10 --lr
# 0.01 --momentum 0.9": LeNet is ~10 times slower per image here) are passed to the app.
# Needs MNIST in data/mnist (or XTGRAD_MNIST_DIR) and dataset-fashion-mnist (scripts/install_deps.sh --test).
set -euo pipefail
build=${1:-build}
out=${2:-results/regularizers}
app="$build/apps/mnist_regularization/mnist_regularization"
mnist=${XTGRAD_MNIST_DIR:-data/mnist}
export OPENBLAS_NUM_THREADS=1
read -r -a mlp_flags <<<"${MLP_FLAGS:-}"
read -r -a lenet_flags <<<"${LENET_FLAGS:---train-size 5000 --epochs 10 --lr 0.01 --momentum 0.9}"
methods=(
  --reg none --reg 'l2(lambd=0.01)' --reg 'l1(lambd=0.0001)' --reg 'dropout(p=0.5)' --reg 'maxnorm(c=1)'
  --reg 'noise(std=0.3)' --reg 'label_smoothing(eps=0.1)' --reg 'early_stopping(patience=3)'
  --reg 'adversarial(eps=0.1)'
)
for model in ${MODELS:-mlp lenet}; do
  for dataset in mnist fashion-mnist; do
    data=()
    [[ $dataset == mnist ]] && data=(--data "$mnist")
    if [[ $model == mlp ]]; then
      "$app" --model mlp --dataset "$dataset" "${data[@]}" --seed 0 --eval-fgsm 0.05,0.1,0.2 --quiet \
             --out "$out/$dataset-mlp" "${methods[@]}" --reg 'input_grad(lambd=1)' "${mlp_flags[@]}"
    else
      "$app" --model lenet --dataset "$dataset" "${data[@]}" --seed 0 --eval-fgsm 0.05,0.1,0.2 --quiet \
             --out "$out/$dataset-lenet" "${methods[@]}" --reg 'input_grad(lambd=1)' "${lenet_flags[@]}"
    fi
  done
done
python3 - "$out" <<'PY'
import json, os, sys
for model in ("mlp", "lenet"):
    for dataset in ("mnist", "fashion-mnist"):
        path = f"{sys.argv[1]}/{dataset}-{model}/summary.json"
        if not os.path.exists(path):
            continue
        s = json.load(open(path))
        c = s["config"]
        eps = c["eval_fgsm"]
        print(f"\n{c['dataset']}, {c.get('model', 'mlp')}, --train-size {c['train_size']}, --epochs {c['epochs']}, "
              f"--lr {c['lr']}, --momentum {c.get('momentum', 0)}, seed {c['seed']}\n")
        print("| method | test acc | train−test gap | " + " | ".join(f"FGSM ε={e:g}" for e in eps) +
              " | s/epoch | weights with \\|w\\| < 1e-3 |")
        print("|---|---:|---:|" + "---:|" * len(eps) + "---:|---:|")
        for r in s["runs"]:
            count = sum(t["count"] for t in r["sparsity"])
            small = sum(t["small_fraction"] * t["count"] for t in r["sparsity"]) / count
            fg = " | ".join(f"{x['test_accuracy']:.4f}" for x in r["fgsm_test_accuracy"])
            print(f"| {r['reg']} | {r['test_accuracy']:.4f} | {r['train_test_gap']:+.4f} | {fg} | "
                  f"{r['seconds_per_epoch']:.2f} | {100 * small:.1f}% |")
PY
