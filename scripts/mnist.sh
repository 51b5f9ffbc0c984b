#!/usr/bin/env bash
# Run the MNIST regularization app (Release build); extra args go to the app.
# Usage: scripts/mnist.sh [app flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh
scripts/fetch_mnist.sh data/mnist
scripts/build.sh Release

exec build/apps/mnist_regularization/mnist_regularization --data data/mnist "$@"
