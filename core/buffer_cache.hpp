// Tensor storage recycled between training steps.
//
// A training step allocates the same activations and gradients every time and frees them
// when its graph is released. Nodes hand the tensors ops computed (values and gradients, not
// tensors the user gave) to a per-thread cache when they die,
// and ops take their outputs from it (matched by element count, reshaped in place), so in
// steady state a step calls malloc for none of them and touches no fresh pages. The cache
// holds at most `buffer_cache_limit()` bytes (oldest buffers are dropped first); it lives
// and dies with its thread.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <utility>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// A tensor of `shape` whose contents are unspecified: a cached buffer of the same element
// count if there is one, otherwise a new allocation.
Tensor empty_tensor(const Shape& shape);
Tensor empty_tensor(const Tensor::shape_type& shape);
Tensor empty_tensor(std::initializer_list<std::size_t> shape);
// empty_tensor(t.shape()).
inline Tensor empty_like(const Tensor& t) { return empty_tensor(t.shape()); }
// A 0-d tensor holding `value` (from the cache).
Tensor scalar_tensor(Scalar value);
// Gives `t`'s storage to the cache; `t` is left empty (shape (0)). A no-op for empty tensors.
void recycle(Tensor& t) noexcept;
inline void recycle(Tensor&& t) noexcept { recycle(t); }

// A tensor a backward closure keeps (say, softmax probabilities): recycled, not freed, when
// the closure is destroyed. Move-only.
class SavedTensor {
 public:
  explicit SavedTensor(Tensor t) : tensor_(std::move(t)) {}
  SavedTensor(SavedTensor&&) noexcept = default;
  SavedTensor& operator=(SavedTensor&&) = delete;
  SavedTensor(const SavedTensor&) = delete;
  SavedTensor& operator=(const SavedTensor&) = delete;
  ~SavedTensor() { recycle(tensor_); }
  const Tensor& get() const { return tensor_; }

 private:
  Tensor tensor_;
};

// What the calling thread's cache holds and how it has served requests so far.
struct BufferCacheStats {
  std::size_t buffers = 0;  // tensors waiting to be reused
  std::size_t bytes = 0;    // their total size
  std::size_t hits = 0;     // empty_tensor calls served from the cache
  std::size_t misses = 0;   // empty_tensor calls that allocated
};
BufferCacheStats buffer_cache_stats();

// Upper bound on the bytes one thread's cache keeps (default 64 MiB); 0 turns caching off.
// Applies to every thread; lowering it frees the calling thread's excess at once.
void set_buffer_cache_limit(std::size_t bytes);
std::size_t buffer_cache_limit();
// Frees every buffer the calling thread's cache holds.
void release_cached_buffers();

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
