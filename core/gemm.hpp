// The one entry point to BLAS: C = alpha·op(A)·op(B) + beta·C on row-major contiguous
// buffers, op(X) = Xᵀ when its flag is set, so no transpose is ever materialized.
// op(A): (m, k), op(B): (k, n), C: (m, n). Callers check shapes: BLAS does not.
#pragma once

#include <cstddef>
#include <string>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// C = alpha·op(A)·op(B) + beta·C; op(A): (m, k), op(B): (k, n), C: (m, n), row-major.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, Scalar alpha,
          const Scalar* a, const Scalar* b, Scalar beta, Scalar* c);

// Number of threads OpenBLAS uses (set_blas_threads(1) is the fastest at the seed's sizes).
void set_blas_threads(int threads);

// The kernel family OpenBLAS chose for this CPU ("Haswell", "Cooperlake", ...); it follows
// OPENBLAS_CORETYPE when that is set.
std::string blas_core_name();

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
