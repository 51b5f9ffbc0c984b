#!/usr/bin/env bash
# The optional oneDNN backend (-DXTGRAD_WITH_DNNL=ON: conv2d's float path through oneDNN) built
# in build-onednn/ and its conv tests run: oneDNN against xtgrad's own kernels
# (test_conv_dnnl_f32), the conv tests whose float cases then run through oneDNN, and the own
# kernels' thread tests. Needs scripts/install_deps.sh --test (libdnnl-dev and the OpenCL
# headers its CMake package asks for).
# Usage: scripts/onednn_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TESTS=(test_conv_dnnl_f32 test_conv test_gradgradcheck_conv test_conv_allocations_f32
       test_conv_eval_invariance_f32 test_parallel_conv)
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); export CCACHE_BASEDIR=$PWD; fi
t0=$SECONDS
cmake -S . -B build-onednn -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DXTGRAD_WITH_DNNL=ON \
  -DXTGRAD_BUILD_TESTS=ON -DXTGRAD_BUILD_APPS=OFF -DXTGRAD_BUILD_EXAMPLES=OFF -DXTGRAD_BUILD_BENCH=OFF > /dev/null
cmake --build build-onednn -j"$(nproc)" --target "${TESTS[@]}"
build_seconds=$((SECONDS - t0))
export OPENBLAS_NUM_THREADS=1
for t in "${TESTS[@]}"; do
  # as ctest runs them (tests/CMakeLists.txt): the thread test checks the own kernels' bits
  # (oneDNN's above one thread: test_conv_dnnl_f32)
  case $t in
    test_parallel_conv) env=(XTGRAD_CONV=own) ;;
    *) env=() ;;
  esac
  echo "onednn_check: $t"
  env "${env[@]}" "build-onednn/tests/$t" --gtest_brief=1
done
echo "onednn_check: all ${#TESTS[@]} programs passed (build ${build_seconds}s, tests $((SECONDS - t0 - build_seconds))s)"
