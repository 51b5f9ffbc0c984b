#!/usr/bin/env bash
# ctest include_rules_fixture: scripts/check_include_rules.sh fails on planted violations (and
# on exactly those), and passes on the same tree once they are removed.
# Usage: tests/scripts/include_rules_fixture.sh [CHECKER]
set -euo pipefail

checker=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/check_include_rules.sh}
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
cd "$tree"
mkdir -p core ops io nn/data regularizers distributed apps/demo

plant() {  # plant FILE LINE...: FILE with one line each
  local file=$1
  shift
  printf '%s\n' "$@" >"$file"
}

# Allowed: each folder its own files and what its rule lists; apps anything.
plant core/tensor.hpp '#pragma once' '#include <vector>' '#include <xtensor/xtensor.hpp>'
plant core/variable.hpp '#pragma once' '#include "tensor.hpp"' '#include "xtgrad/core/tensor.hpp"'
plant core/defaults.hpp '#pragma once' '#include "variable.hpp"'
plant core/core.hpp '#pragma once' '#include "defaults.hpp"' '#include "xtgrad/core/variable.hpp"'
plant ops/elementwise.hpp '#pragma once' '#include <xtgrad/core/variable.hpp>' '#include "../core/tensor.hpp"'
plant io/npz.hpp '#pragma once' '#include "xtgrad/core/tensor.hpp"'
plant nn/module.hpp '#pragma once' '#include "xtgrad/ops/elementwise.hpp"' '#include "xtgrad/io/npz.hpp"'
plant nn/data/loader.cpp '#include "../module.hpp"' '#include "../../core/tensor.hpp"' '  #  include <xtgrad/nn/module.hpp>'
plant regularizers/l2.hpp '#pragma once' '#include "xtgrad/ops/elementwise.hpp"'
plant distributed/ddp.cpp '#include "xtgrad/nn/module.hpp"' '#include <mpi.h>'
plant apps/demo/main.cpp '#include <xtgrad/xtgrad.hpp>' '#include "../../regularizers/l2.hpp"' \
  '#include "xtgrad/distributed/ddp.hpp"'

set +e
out=$(bash "$checker" "$tree" 2>&1)
rc=$?
set -e
if ((rc != 0)); then
  echo "FAIL: the checker rejected a tree that keeps the rules (exit $rc):"
  echo "$out"
  exit 1
fi
echo "clean tree: passed as expected: $out"

# Planted violations, one per kind of crossing.
plant core/node.hpp '#pragma once' '#include "xtgrad/ops/elementwise.hpp"'           # core → ops
plant core/all.hpp '#pragma once' '#include <xtgrad/xtgrad.hpp>'                      # core → umbrella
plant ops/losses.cpp '#include "../nn/module.hpp"'                                   # ops → nn, relative
plant io/mnist.cpp '#include <xtgrad/nn/module.hpp>'                                 # io → nn
plant nn/data/shard.cpp '#include "../../regularizers/l2.hpp"'                       # nn → regularizers, two levels up
plant regularizers/spec.cpp '#include "xtgrad/nn/module.hpp"' '#include "xtgrad/io/npz.hpp"'  # → nn, → io
plant distributed/comm.hpp '#pragma once' '#include "xtgrad/regularizers/l2.hpp"'     # distributed → regularizers
plant ops/app_bits.cpp '#include "../apps/demo/main.cpp"'                             # ops → apps
plant ops/float_op.cpp '#include "xtgrad/core/defaults.hpp"'                          # ops → the float defaults
plant core/grad.cpp '#include "core.hpp"'                                              # core → its umbrella (defaults)

expected="core/all.hpp:2:umbrella
core/grad.cpp:1:defaults
core/node.hpp:2:ops
distributed/comm.hpp:2:regularizers
io/mnist.cpp:1:nn
nn/data/shard.cpp:1:regularizers
ops/app_bits.cpp:1:apps
ops/float_op.cpp:1:defaults
ops/losses.cpp:1:nn
regularizers/spec.cpp:1:nn
regularizers/spec.cpp:2:io"

set +e
out=$(bash "$checker" "$tree" 2>&1)
rc=$?
set -e
echo "$out"
if ((rc != 1)); then
  echo "FAIL: the checker exited $rc on the planted violations (expected 1)"
  exit 1
fi
got=$(grep -E '^[a-z]+/' <<<"$out" | sed -E 's/^([^:]+:[0-9]+):.*this includes (the )?([a-z]+).*/\1:\3/' | sort)
if [[ $got != "$expected" ]]; then
  echo "FAIL: the checker reported other violations than the planted ones"
  echo "expected:"
  echo "$expected"
  echo "got:"
  echo "$got"
  exit 1
fi
echo "planted tree: the checker failed with exit 1 and named exactly the 11 planted includes"
