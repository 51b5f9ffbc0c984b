// Marks the calling thread as inside a BLAS call, so that a heap-allocation counter can tell
// xtgrad's own allocations from the BLAS library's (OpenBLAS 0.3.21's small-matrix kernels for
// AVX-512, sgemm/dgemm_small_kernel_*_SKYLAKEX, malloc a packing buffer on some shapes).
// gemm() (core/gemm.cpp), the only caller of BLAS, holds a BlasScope around each call;
// tests/ and bench/ read inside_blas() from their malloc hook (bench/malloc_counter.hpp).
//
// Header-only and free of xtensor, so the malloc hook can include it; outside the float/double
// ABI namespace, so both precisions' gemm share the one per-thread depth. Reading it neither
// allocates nor takes a lock (a constant-initialised thread_local int).
#pragma once

namespace xtgrad {
namespace blas_scope_detail {
inline thread_local int depth = 0;  // nesting depth of BlasScope on this thread
}  // namespace blas_scope_detail

// Whether the calling thread is inside a BlasScope (a BLAS call made by xtgrad). Threads that
// OpenBLAS itself starts are not marked: gemm() runs a product on one thread (the caller's)
// unless set_blas_threads(n > 1) and the product is large (gemm_uses_threads).
inline bool inside_blas() noexcept { return blas_scope_detail::depth > 0; }

// RAII: the calling thread is inside BLAS from construction to destruction (nestable).
class BlasScope {
 public:
  BlasScope() noexcept { ++blas_scope_detail::depth; }
  ~BlasScope() { --blas_scope_detail::depth; }
  BlasScope(const BlasScope&) = delete;
  BlasScope& operator=(const BlasScope&) = delete;
};

}  // namespace xtgrad
