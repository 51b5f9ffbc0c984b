// Recycled memory for the graph's small, short-lived objects: nodes (with their shared_ptr
// control block) and backward closures. A training step builds and frees the same handful of
// them every time; per-thread free lists hand the previous step's blocks back instead of
// calling malloc. Blocks are grouped in 64-byte size classes up to 1 KiB; larger requests
// go straight to operator new. A block freed on another thread joins that thread's lists.
#pragma once

#include <cstddef>
#include <new>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

// A block of at least `bytes` bytes, aligned for any fundamental type.
void* allocate_small_block(std::size_t bytes);
// Returns a block from allocate_small_block(bytes) (same `bytes`).
void free_small_block(void* block, std::size_t bytes) noexcept;

// A standard allocator over those blocks, for std::allocate_shared.
template <class T>
struct SmallBlockAllocator {
  using value_type = T;
  SmallBlockAllocator() = default;
  template <class U>
  SmallBlockAllocator(const SmallBlockAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned type");
    return static_cast<T*>(allocate_small_block(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { free_small_block(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const SmallBlockAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const SmallBlockAllocator<U>&) const noexcept { return false; }
};

}  // namespace xtgrad
