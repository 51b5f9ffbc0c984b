// A counter of heap allocations for one program: it defines the malloc family (malloc,
// calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc) and forwards each to
// glibc's __libc_* entry point, so it sees xtensor's posix_memalign'd buffers and every
// operator new, in the program and in the shared libraries it loads (mallopt still applies).
// Include it in exactly one source file of a program. Under AddressSanitizer, which
// interposes malloc itself, it defines no malloc (the counters stay at zero) and sets
// MALLOC_COUNTER_AVAILABLE to 0.
//
// malloc_counter::g_counting switches counting on; g_allocs / g_bytes count calls and bytes
// requested by xtgrad and the program: everything except what the BLAS library allocates while
// the allocating thread is inside an xtgrad BLAS call (xtgrad::inside_blas(), set by gemm()
// around each cblas call, core/blas_scope.hpp). Those are tallied apart in g_blas_allocs /
// g_blas_bytes: OpenBLAS 0.3.21's AVX-512 small-matrix kernels malloc a packing buffer on some
// shapes, which xtgrad neither causes nor can avoid. With g_tracing also on, the sizes of the
// first kTraceCapacity counted allocations are kept in order in g_trace (fixed storage: the
// hook must not allocate).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define MALLOC_COUNTER_AVAILABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MALLOC_COUNTER_AVAILABLE 0
#endif
#endif
#ifndef MALLOC_COUNTER_AVAILABLE
#define MALLOC_COUNTER_AVAILABLE 1
#endif

#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "xtgrad/core/blas_scope.hpp"  // xtgrad::inside_blas(): no allocation, no xtensor
// Every header that declares a malloc-family function must come before the definitions below.
#if __has_include(<mm_malloc.h>)
#include <mm_malloc.h>
#endif

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace malloc_counter {

inline std::atomic<bool> g_counting{false};
inline std::atomic<std::uint64_t> g_allocs{0}, g_bytes{0};            // xtgrad's and the program's
inline std::atomic<std::uint64_t> g_blas_allocs{0}, g_blas_bytes{0};  // inside a BLAS call

constexpr std::size_t kTraceCapacity = 4096;
inline std::atomic<bool> g_tracing{false};
inline std::size_t g_trace[kTraceCapacity];
inline std::atomic<std::size_t> g_trace_len{0};

inline void note_alloc(std::size_t bytes) {
  if (!g_counting.load(std::memory_order_relaxed)) return;
  if (xtgrad::inside_blas()) {
    g_blas_allocs.fetch_add(1, std::memory_order_relaxed);
    g_blas_bytes.fetch_add(bytes, std::memory_order_relaxed);
    return;
  }
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (g_tracing.load(std::memory_order_relaxed)) {
    const std::size_t i = g_trace_len.fetch_add(1, std::memory_order_relaxed);
    if (i < kTraceCapacity) g_trace[i] = bytes;
  }
}

}  // namespace malloc_counter

#if MALLOC_COUNTER_AVAILABLE
extern "C" {
void* malloc(std::size_t size) {
  malloc_counter::note_alloc(size);
  return __libc_malloc(size);
}
void free(void* p) { __libc_free(p); }
void* calloc(std::size_t n, std::size_t size) {
  malloc_counter::note_alloc(n * size);
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  malloc_counter::note_alloc(size);
  return __libc_realloc(p, size);
}
void* memalign(std::size_t alignment, std::size_t size) {
  malloc_counter::note_alloc(size);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  malloc_counter::note_alloc(size);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  malloc_counter::note_alloc(size);
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(std::size_t size) {
  malloc_counter::note_alloc(size);
  return __libc_memalign(4096, size);
}
}

#endif  // MALLOC_COUNTER_AVAILABLE
