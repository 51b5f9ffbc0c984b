// Process setup shared by the Google Benchmark binaries: malloc tuning, OpenBLAS threads and
// the context lines every report carries.
#pragma once

#include <malloc.h>

#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>
#include <xtgrad/core/gemm.hpp>

namespace xtgrad_bench {

// Keeps freed memory (fresh pages cost ~12 µs each on this VM) unless
// XTGRAD_BENCH_DEFAULT_MALLOC is set, and sets OpenBLAS threads from XTGRAD_BENCH_THREADS
// (default 1). Returns the thread count.
inline int setup_process() {
  if (!std::getenv("XTGRAD_BENCH_DEFAULT_MALLOC")) {
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
  }
  const char* threads = std::getenv("XTGRAD_BENCH_THREADS");
  const int n = threads && std::atoi(threads) > 0 ? std::atoi(threads) : 1;
  xtgrad::set_blas_threads(n);
  return n;
}

// Threads, malloc mode and the OpenBLAS kernel settings, printed in the report's context.
inline void add_context(int threads) {
  benchmark::AddCustomContext("blas_threads", std::to_string(threads));
  benchmark::AddCustomContext("malloc", std::getenv("XTGRAD_BENCH_DEFAULT_MALLOC") ? "glibc defaults"
                                                                                   : "trim 256 MiB, mmap 64 MiB");
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  const char* l2 = std::getenv("OPENBLAS_L2_SIZE");
  benchmark::AddCustomContext("OPENBLAS_CORETYPE", coretype ? coretype : "(unset)");
  benchmark::AddCustomContext("OPENBLAS_L2_SIZE", l2 ? l2 : "(unset)");
}

// The whole main() of a benchmark program: process setup, flags, context, run.
inline int run_benchmarks(int argc, char** argv) {
  const int threads = setup_process();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  add_context(threads);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace xtgrad_bench
