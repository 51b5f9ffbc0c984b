#!/usr/bin/env bash
# The README's results table: the seed's three runs for seeds 0, 1, 2 with the true gradient
# and with the blog's, plus the independent PyTorch implementation (if python3-torch is
# installed). Writes results/reproduce/ and prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh python3-torch python3-numpy
scripts/fetch_mnist.sh
scripts/build.sh Release --app
export OPENBLAS_NUM_THREADS=1
app=build/apps/mnist_regularization/mnist_regularization
out=results/reproduce
mkdir -p "$out"
for seed in 0 1 2; do
  "$app" --data data/mnist --seed "$seed" --quiet --no-plots --out "$out/true_s$seed"
  "$app" --data data/mnist --seed "$seed" --quiet --no-plots --blog-gradient --out "$out/blog_s$seed"
  for reg in none l2 l1; do
    /usr/bin/python3 bench/reference_pytorch.py --data data/mnist --seed "$seed" --reg "$reg" \
      --json "$out/torch_${reg}_s$seed.json" > /dev/null
    /usr/bin/python3 bench/reference_pytorch.py --data data/mnist --seed "$seed" --reg "$reg" --blog-gradient \
      --json "$out/torchblog_${reg}_s$seed.json" > /dev/null
  done
done
/usr/bin/python3 scripts/results_table.py "$out"
