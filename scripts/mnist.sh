#!/usr/bin/env bash
# Run the MNIST regularization app (Release build); extra args go to the app. Installs and
# builds only what the library and the app need (scripts/test.sh does the rest).
# Usage: scripts/mnist.sh [app flags...]
# Without --data, MNIST is fetched (and verified) into data/mnist and used; with --data DIR
# (or --data=DIR) the user's data is used as given and nothing is downloaded.
# XTGRAD_DRY_RUN=1: print each step instead of running it (tests/app_cli_test.sh uses it).
set -euo pipefail
cd "$(dirname "$0")/.."

user_data=0
for arg in "$@"; do
  case $arg in
    --data|--data=*) user_data=1 ;;
  esac
done

run() {
  if [[ ${XTGRAD_DRY_RUN:-0} == 1 ]]; then printf '%q ' "$@"; echo; else "$@"; fi
}

run scripts/install_deps.sh
if ((user_data)); then
  data_flag=()
else
  run scripts/fetch_mnist.sh data/mnist
  data_flag=(--data data/mnist)
fi
run scripts/build.sh Release --app
if [[ ${XTGRAD_DRY_RUN:-0} == 1 ]]; then
  run build/apps/mnist_regularization/mnist_regularization "${data_flag[@]}" "$@"
  exit 0
fi
exec build/apps/mnist_regularization/mnist_regularization "${data_flag[@]}" "$@"
