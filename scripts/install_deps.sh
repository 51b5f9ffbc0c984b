#!/usr/bin/env bash
# Install the Debian packages xtgrad needs (see shared/DESIGN.md "Dependencies").
# Only missing packages are installed; extra package names may be given as arguments.
# Usage: scripts/install_deps.sh [extra-package...]
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config
  libxtensor-dev libxtensor-blas-dev libopenblas-dev libxsimd-dev xtl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev zlib1g-dev
  gnuplot-nox graphviz doxygen npm ca-certificates
  clang libclang-rt-14-dev valgrind   # scripts/fuzz.sh (libFuzzer), scripts/leak_check.sh
  libopenmpi-dev openmpi-bin           # distributed/ (xtgrad::distributed) and its tests
  python3-torch python3-numpy          # tests/diff: the differential test against PyTorch
  dataset-fashion-mnist                # the app's --dataset fashion-mnist (/usr/share/datasets/fashion-mnist)
  "$@"
)

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
