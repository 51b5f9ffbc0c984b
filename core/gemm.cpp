// The only file that includes <cblas.h>: it clashes with xtensor-blas's own declarations.
#include "xtgrad/core/gemm.hpp"

#include <cblas.h>

#include "xtgrad/core/blas_scope.hpp"

namespace xtgrad {
namespace {

// OpenBLAS's thread count is process-wide. With two threads it splits the weight-gradient
// shape xᵀ·g (m = in, n = out, small k = batch) badly: 2 threads ran 64x784x200's dW at
// 96 GFLOP/s against 125 on one (bench_ops, BM_sgemm); and at the seed's sizes a whole
// training epoch was 10% slower on two threads even with that product on one (waking the
// second thread costs more than it saves). So extra threads are used only for products of
// at least kMinThreadedWork multiply-adds and never for Aᵀ with k < 256.
constexpr double kMinThreadedWork = 32.0 * 1024 * 1024;
int configured_threads = 1;
int current_threads = -1;

void use_threads(int threads) {
  if (threads != current_threads) {
    const BlasScope in_blas;  // starting OpenBLAS threads allocates
    openblas_set_num_threads(threads);
    current_threads = threads;
  }
}

}  // namespace

namespace {

// Thread choice, the inside-BLAS marker and leading dimensions, shared by both precisions;
// `call` runs cblas_sgemm or cblas_dgemm.
template <class T, class Call>
void run_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, Call call) {
  if (m == 0 || n == 0) return;
  if (configured_threads > 1) use_threads(gemm_uses_threads(trans_a, m, n, k) ? configured_threads : 1);
  const auto ta = trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = trans_b ? CblasTrans : CblasNoTrans;
  const int lda = static_cast<int>(trans_a ? m : k);
  const int ldb = static_cast<int>(trans_b ? k : n);
  const BlasScope in_blas;  // OpenBLAS's own allocations are tallied apart (core/blas_scope.hpp)
  call(ta, tb, lda > 0 ? lda : 1, ldb > 0 ? ldb : 1);
}

}  // namespace

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  run_gemm<float>(trans_a, trans_b, m, n, k, [&](auto ta, auto tb, int lda, int ldb) {
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, lda, b, ldb, beta, c, int(n));
  });
}

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
          const double* b, double beta, double* c) {
  run_gemm<double>(trans_a, trans_b, m, n, k, [&](auto ta, auto tb, int lda, int ldb) {
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, lda, b, ldb, beta, c, int(n));
  });
}

bool gemm_uses_threads(bool trans_a, std::size_t m, std::size_t n, std::size_t k) {
  return configured_threads > 1 && double(m) * double(n) * double(k) >= kMinThreadedWork && !(trans_a && k < 256);
}

std::string blas_core_name() {
  const char* name = openblas_get_corename();
  return name ? name : "unknown";
}

void set_blas_threads(int threads) {
  configured_threads = threads > 0 ? threads : 1;
  use_threads(configured_threads);
}

}  // namespace xtgrad
