// The one entry point to BLAS: C = alpha·op(A)·op(B) + beta·C on row-major contiguous
// buffers, op(X) = Xᵀ when its flag is set, so no transpose is ever materialized.
// op(A): (m, k), op(B): (k, n), C: (m, n). Callers check shapes: BLAS does not.
#pragma once

#include <cstddef>
#include <string>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

// C = alpha·op(A)·op(B) + beta·C; op(A): (m, k), op(B): (k, n), C: (m, n), row-major.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          const float* b, float beta, float* c);
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
          const double* b, double beta, double* c);

// The same with the row strides of A, B and C as stored (lda >= op(A)'s stored columns, ...):
// a block of columns of a wider row-major matrix, such as one head of attention's (L, H·d)
// inputs, is read and written in place, no packed copy.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
          std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc);

// Products of enough work are split into row (or column) blocks run on xtgrad's threads
// (core/parallel.hpp), each block one single-threaded BLAS call; OpenBLAS's own threads are
// never used. Deprecated: same as set_num_threads(threads).
void set_blas_threads(int threads);

// Whether gemm() would split this product across more than one thread now.
bool gemm_uses_threads(bool trans_a, std::size_t m, std::size_t n, std::size_t k);

// The kernel family OpenBLAS chose for this CPU ("Haswell", "Cooperlake", ...); it follows
// OPENBLAS_CORETYPE when that is set.
std::string blas_core_name();

}  // namespace xtgrad
