#include "xtgrad/core/buffer_cache.hpp"

#include <atomic>
#include <vector>

namespace xtgrad {
namespace {

constexpr std::size_t kMaxBuffers = 256;  // a linear scan over this many is still cheap

std::atomic<std::size_t> g_limit_bytes{std::size_t(64) << 20};

// See small_blocks.cpp: readable after the cache itself is destroyed at thread exit (one
// flag per precision's cache).
template <class T>
thread_local bool t_cache_destroyed = false;

template <class T>
struct BufferCache {
  using Tensor = TensorOf<T>;
  std::vector<Tensor> buffers;  // oldest first
  std::size_t bytes = 0;
  std::size_t hits = 0, misses = 0;

  BufferCache() { buffers.reserve(kMaxBuffers); }
  ~BufferCache() { t_cache_destroyed<T> = true; }

  static std::size_t bytes_of(const Tensor& t) { return t.size() * sizeof(T); }

  void drop_oldest() {
    bytes -= bytes_of(buffers.front());
    buffers.erase(buffers.begin());
  }
  void shrink_to(std::size_t limit) {
    while (!buffers.empty() && (bytes > limit || buffers.size() >= kMaxBuffers)) drop_oldest();
  }
};

// The calling thread's cache for T: a function-local thread_local, constructed on first use
// and destroyed at thread exit. (As a thread_local variable template, the instance a second
// thread used was never constructed nor destroyed under GCC 12: no reserve, and
// LeakSanitizer reported its buffers at that thread's exit.)
template <class T>
BufferCache<T>& thread_cache() {
  thread_local BufferCache<T> cache;
  return cache;
}

template <class T, class S>
TensorOf<T> take_or_allocate(const S& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  if (n > 0 && !t_cache_destroyed<T>) {
    BufferCache<T>& cache = thread_cache<T>();
    // Newest first: the buffer freed most recently is the likeliest to be in cache.
    for (std::size_t i = cache.buffers.size(); i-- > 0;) {
      if (cache.buffers[i].size() != n) continue;
      TensorOf<T> t = std::move(cache.buffers[i]);
      cache.buffers.erase(cache.buffers.begin() + static_cast<std::ptrdiff_t>(i));
      cache.bytes -= n * sizeof(T);
      ++cache.hits;
      t.reshape(shape);
      return t;
    }
    ++cache.misses;
  }
  return TensorOf<T>::from_shape(shape);
}

template <class T>
BufferCacheStats& operator+=(BufferCacheStats& s, const BufferCache<T>& cache) {
  s.buffers += cache.buffers.size();
  s.bytes += cache.bytes;
  s.hits += cache.hits;
  s.misses += cache.misses;
  return s;
}

}  // namespace

template <class T>
TensorOf<T> empty_tensor(const Shape& shape) {
  return take_or_allocate<T>(shape);
}
template <class T>
TensorOf<T> empty_tensor(const typename TensorOf<T>::shape_type& shape) {
  return take_or_allocate<T>(shape);
}
template <class T>
TensorOf<T> empty_tensor(std::initializer_list<std::size_t> shape) {
  return take_or_allocate<T>(typename TensorOf<T>::shape_type(shape.begin(), shape.end()));
}

template <class T>
TensorOf<T> scalar_tensor(T value) {
  TensorOf<T> t = empty_tensor<T>({});
  t.data()[0] = value;
  return t;
}

template <class T>
void recycle(TensorOf<T>& t) noexcept {
  if (t.size() == 0) return;
  const std::size_t b = t.size() * sizeof(T);
  const std::size_t limit = g_limit_bytes.load(std::memory_order_relaxed);
  if (t_cache_destroyed<T> || b > limit) {
    t = TensorOf<T>::from_shape({0});
    return;
  }
  BufferCache<T>& cache = thread_cache<T>();
  cache.shrink_to(limit - b);
  cache.buffers.push_back(std::move(t));  // capacity reserved: no allocation, no throw
  cache.bytes += b;
  t = TensorOf<T>::from_shape({0});
}

#define XTGRAD_INSTANTIATE(T)                                                     \
  template TensorOf<T> empty_tensor<T>(const Shape&);                              \
  template TensorOf<T> empty_tensor<T>(const typename TensorOf<T>::shape_type&);   \
  template TensorOf<T> empty_tensor<T>(std::initializer_list<std::size_t>);        \
  template TensorOf<T> scalar_tensor(T);                                           \
  template void recycle(TensorOf<T>&) noexcept;
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

BufferCacheStats buffer_cache_stats() {
  BufferCacheStats s;
  if (!t_cache_destroyed<float>) s += thread_cache<float>();
  if (!t_cache_destroyed<double>) s += thread_cache<double>();
  return s;
}

void set_buffer_cache_limit(std::size_t bytes) {
  g_limit_bytes.store(bytes, std::memory_order_relaxed);
  if (!t_cache_destroyed<float>) thread_cache<float>().shrink_to(bytes);
  if (!t_cache_destroyed<double>) thread_cache<double>().shrink_to(bytes);
}

std::size_t buffer_cache_limit() { return g_limit_bytes.load(std::memory_order_relaxed); }

void release_cached_buffers() {
  auto release = [](auto& cache) {
    cache.buffers.clear();
    cache.bytes = 0;
  };
  if (!t_cache_destroyed<float>) release(thread_cache<float>());
  if (!t_cache_destroyed<double>) release(thread_cache<double>());
}

}  // namespace xtgrad
