#include "xtgrad/core/buffer_cache.hpp"

#include <atomic>
#include <vector>

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

constexpr std::size_t kMaxBuffers = 256;  // a linear scan over this many is still cheap

std::atomic<std::size_t> g_limit_bytes{std::size_t(64) << 20};

struct BufferCache;
// See small_blocks.cpp: readable after the cache itself is destroyed at thread exit.
thread_local bool t_cache_destroyed = false;

struct BufferCache {
  std::vector<Tensor> buffers;  // oldest first
  std::size_t bytes = 0;
  std::size_t hits = 0, misses = 0;

  BufferCache() { buffers.reserve(kMaxBuffers); }
  ~BufferCache() { t_cache_destroyed = true; }

  static std::size_t bytes_of(const Tensor& t) { return t.size() * sizeof(Scalar); }

  void drop_oldest() {
    bytes -= bytes_of(buffers.front());
    buffers.erase(buffers.begin());
  }
  void shrink_to(std::size_t limit) {
    while (!buffers.empty() && (bytes > limit || buffers.size() >= kMaxBuffers)) drop_oldest();
  }
};

thread_local BufferCache t_cache;

Tensor empty_storage() { return Tensor::from_shape({0}); }

template <class S>
Tensor take_or_allocate(const S& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  if (n > 0 && !t_cache_destroyed) {
    BufferCache& cache = t_cache;
    // Newest first: the buffer freed most recently is the likeliest to be in cache.
    for (std::size_t i = cache.buffers.size(); i-- > 0;) {
      if (cache.buffers[i].size() != n) continue;
      Tensor t = std::move(cache.buffers[i]);
      cache.buffers.erase(cache.buffers.begin() + static_cast<std::ptrdiff_t>(i));
      cache.bytes -= n * sizeof(Scalar);
      ++cache.hits;
      t.reshape(shape);
      return t;
    }
    ++cache.misses;
  }
  return Tensor::from_shape(shape);
}

}  // namespace

Tensor empty_tensor(const Shape& shape) { return take_or_allocate(shape); }
Tensor empty_tensor(const Tensor::shape_type& shape) { return take_or_allocate(shape); }
Tensor empty_tensor(std::initializer_list<std::size_t> shape) {
  return take_or_allocate(Tensor::shape_type(shape.begin(), shape.end()));
}

Tensor scalar_tensor(Scalar value) {
  Tensor t = empty_tensor({});
  t.data()[0] = value;
  return t;
}

void recycle(Tensor& t) noexcept {
  if (t.size() == 0) return;
  const std::size_t b = t.size() * sizeof(Scalar);
  const std::size_t limit = g_limit_bytes.load(std::memory_order_relaxed);
  if (t_cache_destroyed || b > limit) {
    t = empty_storage();
    return;
  }
  BufferCache& cache = t_cache;
  cache.shrink_to(limit - b);
  cache.buffers.push_back(std::move(t));  // capacity reserved: no allocation, no throw
  cache.bytes += b;
  t = empty_storage();
}

BufferCacheStats buffer_cache_stats() {
  BufferCacheStats s;
  if (t_cache_destroyed) return s;
  const BufferCache& cache = t_cache;
  s.buffers = cache.buffers.size();
  s.bytes = cache.bytes;
  s.hits = cache.hits;
  s.misses = cache.misses;
  return s;
}

void set_buffer_cache_limit(std::size_t bytes) {
  g_limit_bytes.store(bytes, std::memory_order_relaxed);
  if (!t_cache_destroyed) t_cache.shrink_to(bytes);
}

std::size_t buffer_cache_limit() { return g_limit_bytes.load(std::memory_order_relaxed); }

void release_cached_buffers() {
  if (t_cache_destroyed) return;
  t_cache.buffers.clear();
  t_cache.bytes = 0;
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
