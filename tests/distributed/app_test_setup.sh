# Sourced by the app's MPI test scripts (app_mpi_test.sh, app_mpi_randomness_test.sh), which
# take APP_BINARY MNIST_DIR MPIEXEC [MPIEXEC_FLAGS...]. Sets app, mnist, mpirun (an array),
# tmp (a scratch folder removed on exit) and the pass/fail counters and reporters; exits 77
# (ctest: skipped) when MNIST_DIR holds no MNIST.
script=$(basename "$0")
app=${1:?usage: $script APP_BINARY MNIST_DIR MPIEXEC [FLAGS...]}
mnist=${2:?usage: $script APP_BINARY MNIST_DIR MPIEXEC [FLAGS...]}
shift 2
mpirun=("$@")
passed=0 failed=0

[[ -f "$mnist/train-images-idx3-ubyte" || -f "$mnist/train-images-idx3-ubyte.gz" ]] || {
  echo "skip: no MNIST in $mnist"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtgrad_${script%.sh}.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; shift; for line in "$@"; do echo "       $line"; done; }
