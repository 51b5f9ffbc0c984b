// The only file that includes <cblas.h>: it clashes with xtensor-blas's own declarations.
#include "xtgrad/core/gemm.hpp"

#include <cblas.h>

#include <algorithm>

#include "xtgrad/core/blas_scope.hpp"
#include "xtgrad/core/parallel.hpp"

namespace xtgrad {
namespace {

// Below this many multiply-adds per thread a product runs on the calling thread alone: a
// share of 256 Ki multiply-adds takes ~3 µs at 100 GFLOP/s, about what handing it to a
// spinning worker costs.
constexpr double kMinWorkPerThread = 256.0 * 1024;
// Row blocks start at multiples of 8, column blocks at multiples of 16 (whole SIMD tiles).
constexpr std::size_t kRowAlign = 8, kColumnAlign = 16;

// OpenBLAS runs every call on the calling thread: xtgrad's pool partitions products itself,
// so OpenBLAS's own threads (one per core by default) would only oversubscribe the cores.
void one_blas_thread() {
  static const bool done = [] {
    const BlasScope in_blas;  // may start or stop OpenBLAS threads, which allocates
    openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
}

std::size_t aligned_start(std::size_t extent, std::size_t blocks, std::size_t b, std::size_t align) {
  if (b >= blocks) return extent;
  const std::size_t start = extent * b / blocks;
  return std::min(extent, start / align * align);
}

// The number of blocks gemm() splits this product into (1: not split).
std::size_t gemm_blocks(std::size_t m, std::size_t n, std::size_t k) {
  const int threads = num_threads();
  if (threads <= 1 || in_parallel_region()) return 1;
  const double work = double(m) * double(n) * double(k);
  const auto by_work = static_cast<std::size_t>(work / kMinWorkPerThread);
  const std::size_t by_shape = std::max(m / kRowAlign, n / kColumnAlign);
  return std::max<std::size_t>(1, std::min({by_work, by_shape, std::size_t(threads)}));
}

// Up to this k, a product splits C by rows even when it has fewer rows than columns: with so
// few multiply-adds per element, writing C weighs most, and a block of whole rows is one
// contiguous stretch of it. Measured on the seed MLP's weight gradient gᵀ·x (200 × 784 from
// k = 64, 2 threads): 112-118 µs by rows against 117-128 µs by columns on a quiet machine, and
// 138-149 against 280-340 µs when another process shared a core; LeNet's 120 × 400 and a
// conv's 288 × 784 from k = 64 alike. At k = 128 and above, columns were as fast or faster.
constexpr std::size_t kRowSplitMaxK = 64;

// C = alpha·op(A)·op(B) + beta·C with row strides lda, ldb, ldc (row-major: the distance
// between consecutive rows of A, B, C as stored); `call(ta, tb, rows, cols, a, b, c)` runs one
// cblas_?gemm on one thread with those strides. Splits C by rows when m >= n, or when
// k <= kRowSplitMaxK and every block gets rows (each block reads its rows of op(A) and all of
// op(B)), by columns otherwise; every element's k-sum is one BLAS call's, so the blocks add
// nothing to rounding but BLAS's tile edges.
template <class T, class Call>
void run_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t lda,
              const T* b, std::size_t ldb, T* c, std::size_t ldc, Call call) {
  if (m == 0 || n == 0) return;
  one_blas_thread();
  const auto ta = trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = trans_b ? CblasTrans : CblasNoTrans;
  const std::size_t blocks = gemm_blocks(m, n, k);
  const BlasScope in_blas;  // OpenBLAS's own allocations are tallied apart (core/blas_scope.hpp)
  if (blocks <= 1) {
    call(ta, tb, m, n, a, b, c);
    return;
  }
  const bool by_rows = m >= n || (k <= kRowSplitMaxK && m / kRowAlign >= blocks);
  parallel_for(0, blocks, 1, [&](std::size_t b0, std::size_t b1) {
    const BlasScope worker_in_blas;
    for (std::size_t block = b0; block < b1; ++block) {
      if (by_rows) {  // rows i0..i1 of op(A) and of C
        const std::size_t i0 = aligned_start(m, blocks, block, kRowAlign);
        const std::size_t i1 = aligned_start(m, blocks, block + 1, kRowAlign);
        if (i1 > i0) call(ta, tb, i1 - i0, n, trans_a ? a + i0 : a + i0 * lda, b, c + i0 * ldc);
      } else {  // columns j0..j1 of op(B) and of C
        const std::size_t j0 = aligned_start(n, blocks, block, kColumnAlign);
        const std::size_t j1 = aligned_start(n, blocks, block + 1, kColumnAlign);
        if (j1 > j0) call(ta, tb, m, j1 - j0, a, trans_b ? b + j0 * ldb : b + j0, c + j0);
      }
    }
  });
}

// A leading dimension as BLAS takes it: at least 1, even for an empty matrix.
int blas_ld(std::size_t ld) { return std::max(1, static_cast<int>(ld)); }

// cblas_?gemm for the scalar type (row-major).
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha, const float* a, int lda,
               const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha, const double* a, int lda,
               const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <class T>
void strided_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                  std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  run_gemm<T>(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc,
              [&](CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::size_t rows, std::size_t cols, const T* pa, const T* pb,
                  T* pc) {
                blas_gemm(ta, tb, int(rows), int(cols), int(k), alpha, pa, blas_ld(lda), pb, blas_ld(ldb), beta, pc,
                          blas_ld(ldc));
              });
}

}  // namespace

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  strided_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
          std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
  strided_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Contiguous operands: each row stride is the stored row's length.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  strided_gemm(trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
          const double* b, double beta, double* c) {
  strided_gemm(trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

bool gemm_uses_threads(bool /*trans_a*/, std::size_t m, std::size_t n, std::size_t k) {
  return gemm_blocks(m, n, k) > 1;
}

std::string blas_core_name() {
  const char* name = openblas_get_corename();
  return name ? name : "unknown";
}

void set_blas_threads(int threads) { set_num_threads(threads > 0 ? threads : 1); }

}  // namespace xtgrad
