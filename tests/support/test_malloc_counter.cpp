// The allocation counter the steady-state tests rely on (malloc_counter.hpp, beside this file):
// it counts an allocation xtgrad or the program makes, and tallies apart one made while the
// thread is inside a BLAS call (xtgrad::BlasScope, held by gemm() around each cblas call), so that
// OpenBLAS's own mallocs (its AVX-512 small-matrix kernels: issue 19 §2) do not fail the
// "no heap allocation in steady state" tests, and an xtgrad allocation still does.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "malloc_counter.hpp"  // defines malloc & co. for this test program
#include "xtgrad/core/blas_scope.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/core/gemm.hpp"

namespace xtgrad {
namespace {

// malloc through a volatile pointer: the compiler may not remove a malloc/free pair it sees.
void* (*volatile g_malloc)(std::size_t) = std::malloc;
void (*volatile g_free)(void*) = std::free;

struct Counts {
  std::uint64_t allocs, blas_allocs;
};
Counts counts() { return {malloc_counter::g_allocs.load(), malloc_counter::g_blas_allocs.load()}; }

// Counts of running f with counting on, as differences.
template <class F>
Counts counted(F f) {
  const Counts before = counts();
  malloc_counter::g_counting = true;
  f();
  malloc_counter::g_counting = false;
  const Counts after = counts();
  return {after.allocs - before.allocs, after.blas_allocs - before.blas_allocs};
}

TEST(MallocCounter, CountsAnAllocationOutsideBlas) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  EXPECT_FALSE(inside_blas());
  const Counts c = counted([] { g_free(g_malloc(100)); });
  EXPECT_EQ(c.allocs, 1u);
  EXPECT_EQ(c.blas_allocs, 0u);
  // an xtgrad allocation: a fresh tensor's storage
  const Counts t = counted([] {
    Tensor x = Tensor::from_shape({1000});
    x.fill(1);
    EXPECT_EQ(x(999), 1);
  });
  EXPECT_GE(t.allocs, 1u);
  EXPECT_EQ(t.blas_allocs, 0u);
}

TEST(MallocCounter, TalliesAnAllocationInsideABlasScopeApart) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  const Counts c = counted([] {
    const BlasScope outer;
    {
      const BlasScope nested;
      EXPECT_TRUE(inside_blas());
    }
    EXPECT_TRUE(inside_blas());  // still inside the outer scope
    g_free(g_malloc(100));
  });
  EXPECT_FALSE(inside_blas());
  EXPECT_EQ(c.allocs, 0u);
  EXPECT_EQ(c.blas_allocs, 1u);
  // and after the scope, counted as usual again
  EXPECT_EQ(counted([] { g_free(g_malloc(100)); }).allocs, 1u);
}

// A product of the shape OpenBLAS 0.3.21's AVX-512 small-matrix kernel allocates for (M mod 16
// in 1..8, K ≥ 32, M·N·K ≤ 10⁶; row-major (m, n) is its column-major (n, m), so both are 9):
// with those kernels (the SkylakeX and Cooperlake cores, which OpenBLAS picks on an AVX-512 CPU
// unless OPENBLAS_CORETYPE says otherwise; ctest also runs this file with
// OPENBLAS_CORETYPE=SkylakeX) the allocation is tallied as BLAS's; with any kernel gemm() itself
// allocates nothing.
TEST(MallocCounter, GemmAllocatesNothingOfItsOwn) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  const std::size_t m = 9, n = 9, k = 64;
  // In double: OpenBLAS 0.3.21's AVX-512 small-matrix dgemm kernel allocates; sgemm's does not.
  std::vector<double> a(m * k, 0.5), b(k * n, 0.25), c(m * n, 0.0);
  gemm(false, false, m, n, k, 1, a.data(), b.data(), 0, c.data());  // OpenBLAS's first-call setup
  const Counts g = counted([&] {
    for (int i = 0; i < 3; ++i) gemm(false, false, m, n, k, 1, a.data(), b.data(), 0, c.data());
  });
  EXPECT_EQ(c[0], k * 0.125);
  EXPECT_EQ(g.allocs, 0u);
  const std::string core = blas_core_name();
  std::printf("OpenBLAS core %s: %llu allocations inside BLAS over 3 products\n", core.c_str(),
              static_cast<unsigned long long>(g.blas_allocs));
  if (core == "SkylakeX" || core == "Cooperlake") {  // the AVX-512 kernels: one per product
    EXPECT_GE(g.blas_allocs, 3u);
  }
}

}  // namespace
}  // namespace xtgrad
