// The only file that includes <cblas.h>: it clashes with xtensor-blas's own declarations.
#include "xtgrad/core/gemm.hpp"

#include <cblas.h>

namespace xtgrad {
inline namespace XTGRAD_ABI {

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, Scalar alpha,
          const Scalar* a, const Scalar* b, Scalar beta, Scalar* c) {
  if (m == 0 || n == 0) return;
  const auto ta = trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = trans_b ? CblasTrans : CblasNoTrans;
  const int lda = static_cast<int>(trans_a ? m : k);
  const int ldb = static_cast<int>(trans_b ? k : n);
#ifdef XTGRAD_DOUBLE
  cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, lda > 0 ? lda : 1, b,
              ldb > 0 ? ldb : 1, beta, c, int(n));
#else
  cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, lda > 0 ? lda : 1, b,
              ldb > 0 ? ldb : 1, beta, c, int(n));
#endif
}

void set_blas_threads(int threads) { openblas_set_num_threads(threads); }

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
