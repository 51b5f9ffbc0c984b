// libsgemm_clock.so: loaded with LD_PRELOAD in front of a benchmark, it stands in for BLAS's
// single-precision GEMM (cblas_sgemm, which xtgrad calls, and the Fortran sgemm_, which libtorch
// calls), forwards every call to the real one and adds up the wall time spent inside, over all
// calling threads. bench/models/run_stats.hpp looks up xtgrad_bench_sgemm_seconds() with dlsym
// and reports the seconds per timed step; without the preload the symbol is absent and nothing
// is reported. Both frameworks call the same OpenBLAS, so the time outside it is each
// framework's own (bench/models.sh's one-thread "sgemm" pass).
//
// Cost: two clock reads per call (~40 ns), against 1-200 µs per call in these models.
#include <cblas.h>
#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

std::atomic<long long> g_nanoseconds{0};
std::atomic<long long> g_calls{0};

// The next definition of `name` after this library (the real BLAS); exits with a message when
// there is none, since a benchmark without its GEMM cannot go on.
template <class F>
F next_symbol(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (!f) {
    std::fprintf(stderr, "sgemm_clock: no %s after this library (is a BLAS linked?): %s\n", name, dlerror());
    std::exit(1);
  }
  return reinterpret_cast<F>(f);
}

// Runs `call()` and adds its wall time to the totals.
template <class Call>
void clocked(const Call& call) {
  const auto t0 = std::chrono::steady_clock::now();
  call();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
  g_nanoseconds.fetch_add(ns.count(), std::memory_order_relaxed);
  g_calls.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

extern "C" {

// Seconds spent inside sgemm so far, summed over calling threads, and the number of calls.
double xtgrad_bench_sgemm_seconds() { return 1e-9 * double(g_nanoseconds.load(std::memory_order_relaxed)); }
long long xtgrad_bench_sgemm_calls() { return g_calls.load(std::memory_order_relaxed); }

void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER order, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                 OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n,
                 OPENBLAS_CONST blasint k, OPENBLAS_CONST float alpha, OPENBLAS_CONST float* a,
                 OPENBLAS_CONST blasint lda, OPENBLAS_CONST float* b, OPENBLAS_CONST blasint ldb,
                 OPENBLAS_CONST float beta, float* c, OPENBLAS_CONST blasint ldc) {
  using Fn = void (*)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint, blasint, blasint, float,
                      const float*, blasint, const float*, blasint, float, float*, blasint);
  static const Fn real = next_symbol<Fn>("cblas_sgemm");
  clocked([&] { real(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); });
}

// Fortran BLAS: every argument by address (column-major).
void sgemm_(const char* ta, const char* tb, const blasint* m, const blasint* n, const blasint* k, const float* alpha,
            const float* a, const blasint* lda, const float* b, const blasint* ldb, const float* beta, float* c,
            const blasint* ldc) {
  using Fn = void (*)(const char*, const char*, const blasint*, const blasint*, const blasint*, const float*,
                      const float*, const blasint*, const float*, const blasint*, const float*, float*, const blasint*);
  static const Fn real = next_symbol<Fn>("sgemm_");
  clocked([&] { real(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); });
}

}  // extern "C"
