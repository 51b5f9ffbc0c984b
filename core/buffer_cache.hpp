// Tensor storage recycled between training steps.
//
// A training step allocates the same activations and gradients every time and frees them
// when its graph is released. Nodes hand the tensors ops computed (values and gradients, not
// tensors the user gave) to a per-thread cache when they die,
// and ops take their outputs from it (matched by element count, reshaped in place), so in
// steady state a step calls malloc for none of them and touches no fresh pages. The cache
// holds at most `buffer_cache_limit()` bytes, a bound that grows to the step's working set by
// itself (oldest buffers are dropped first when it cannot grow); it lives and dies with its thread.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <utility>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
// A tensor of `shape` whose contents are unspecified: a cached buffer of the same element
// count if there is one, otherwise a new allocation. Float and double have a pool each.
template <class T>
TensorOf<T> empty_tensor(const Shape& shape);
template <class T>
TensorOf<T> empty_tensor(const typename TensorOf<T>::shape_type& shape);
template <class T>
TensorOf<T> empty_tensor(std::initializer_list<std::size_t> shape);
// empty_tensor(t.shape()).
template <class T>
TensorOf<T> empty_like(const TensorOf<T>& t) {
  return empty_tensor<T>(t.shape());
}
// A 0-d tensor holding `value` (from the cache).
template <class T>
TensorOf<T> scalar_tensor(T value);
// Gives `t`'s storage to the cache; `t` is left empty (shape (0)). A no-op for empty tensors.
template <class T>
void recycle(TensorOf<T>& t) noexcept;
template <class T>
void recycle(TensorOf<T>&& t) noexcept {
  recycle(t);
}

// A tensor a backward closure keeps (say, softmax probabilities): recycled, not freed, when
// the closure is destroyed. Move-only.
template <class T>
class SavedTensor {
 public:
  explicit SavedTensor(TensorOf<T> t) : tensor_(std::move(t)) {}
  SavedTensor(SavedTensor&&) noexcept = default;
  SavedTensor& operator=(SavedTensor&&) = delete;
  SavedTensor(const SavedTensor&) = delete;
  SavedTensor& operator=(const SavedTensor&) = delete;
  ~SavedTensor() { recycle(tensor_); }
  const TensorOf<T>& get() const { return tensor_; }

 private:
  TensorOf<T> tensor_;
};

// What the calling thread's caches (float and double together) hold and how they have served
// requests so far.
struct BufferCacheStats {
  std::size_t buffers = 0;  // tensors waiting to be reused
  std::size_t bytes = 0;    // their total size
  std::size_t hits = 0;     // empty_tensor calls served from the cache
  std::size_t misses = 0;   // empty_tensor calls that allocated
};
BufferCacheStats buffer_cache_stats();

// Upper bound on the bytes one thread's cache of each precision keeps.
//
// Automatic (the default): the bound starts at 64 MiB and doubles whenever a tensor comes back
// to a full cache, up to buffer_cache_cap(); the number of buffers held grows alike (to 16384),
// so after a few steps the cache holds a step's whole working set and a step allocates nothing
// (a CNN at batch 128 needs a few hundred MiB). The bound never shrinks by itself.
//
// set_buffer_cache_limit(bytes) fixes the bound (0 turns caching off) and ends automatic mode;
// lowering it frees the calling thread's excess at once. set_buffer_cache_automatic(start)
// returns to automatic mode from `start` bytes.
void set_buffer_cache_limit(std::size_t bytes);
void set_buffer_cache_automatic(std::size_t start_bytes = std::size_t(64) << 20);
bool buffer_cache_is_automatic();
std::size_t buffer_cache_limit();
// The most an automatic bound grows to: a quarter of the memory this process may use (physical
// memory, capped by ulimit -v and a cgroup memory limit), read once.
std::size_t buffer_cache_cap();
// Frees every buffer the calling thread's caches hold.
void release_cached_buffers();

}  // namespace xtgrad
