#include "xtgrad/core/buffer_cache.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <vector>

namespace xtgrad {
namespace {

constexpr std::size_t kStartBytes = std::size_t(64) << 20;
constexpr std::size_t kStartBuffers = 256;
constexpr std::size_t kMaxBuffers = 16384;  // sizes are scanned as a flat array: still cheap

std::atomic<std::size_t> g_limit_bytes{kStartBytes};
std::atomic<bool> g_automatic{true};

// See small_blocks.cpp: readable after the cache itself is destroyed at thread exit (one
// flag per precision's cache).
template <class T>
thread_local bool t_cache_destroyed = false;

template <class T>
struct BufferCache {
  using Tensor = TensorOf<T>;
  std::vector<Tensor> buffers;     // roughly oldest first
  std::vector<std::size_t> sizes;  // buffers[i].size(), scanned without touching the tensors
  std::size_t capacity = kStartBuffers;  // buffers held at most (grows in automatic mode)
  std::size_t bytes = 0;
  std::size_t hits = 0, misses = 0;

  BufferCache() { reserve(capacity); }
  ~BufferCache() { t_cache_destroyed<T> = true; }

  void reserve(std::size_t n) {
    buffers.reserve(n);
    sizes.reserve(n);
  }

  void remove(std::size_t i) {  // O(1): the last buffer takes slot i
    bytes -= sizes[i] * sizeof(T);
    if (i + 1 != buffers.size()) {
      buffers[i] = std::move(buffers.back());
      sizes[i] = sizes.back();
    }
    buffers.pop_back();
    sizes.pop_back();
  }
  // Drops the oldest buffers until bytes <= limit and fewer than max_buffers remain, in one
  // erase from the front; when it must drop any, it drops at least a sixteenth of them, so a
  // cache held at its bound (a graph of more than kMaxBuffers tensors, such as a long unrolled
  // recurrence) pays O(1) per recycle instead of moving every buffer on each one.
  void shrink_to(std::size_t limit, std::size_t max_buffers) {
    const std::size_t n = buffers.size();
    std::size_t k = 0;
    while (k < n && (bytes > limit || n - k >= max_buffers)) bytes -= sizes[k++] * sizeof(T);
    if (k == 0) return;
    for (const std::size_t batch = std::max(k, n / 16); k < batch; ++k) bytes -= sizes[k] * sizeof(T);
    buffers.erase(buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(k));
    sizes.erase(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(k));
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
    for (std::size_t i = cache.sizes.size(); i-- > 0;) {
      if (cache.sizes[i] != n) continue;
      TensorOf<T> t = std::move(cache.buffers[i]);
      cache.remove(i);
      ++cache.hits;
      t.reshape(shape);
      return t;
    }
    ++cache.misses;
  }
  return TensorOf<T>::from_shape(shape);
}

// In automatic mode, a recycle that finds the cache full raises the limits instead of dropping
// a buffer: the byte limit doubles (at most up to buffer_cache_cap()), the buffer count too
// (at most kMaxBuffers). After a few steps of warm-up the cache holds a whole step's temporaries.
template <class T>
void grow_for(BufferCache<T>& cache, std::size_t incoming_bytes) noexcept {
  if (!g_automatic.load(std::memory_order_relaxed)) return;
  const std::size_t cap = buffer_cache_cap();
  std::size_t limit = g_limit_bytes.load(std::memory_order_relaxed);
  while (cache.bytes + incoming_bytes > limit && limit < cap) {
    const std::size_t doubled = limit * 2;
    if (!g_limit_bytes.compare_exchange_weak(limit, doubled < cap ? doubled : cap, std::memory_order_relaxed)) continue;
    limit = doubled < cap ? doubled : cap;
  }
  if (cache.buffers.size() >= cache.capacity && cache.capacity < kMaxBuffers) {
    try {
      cache.reserve(cache.capacity * 2);  // allocates during warm-up only
      cache.capacity *= 2;
    } catch (...) {
      // out of memory: keep the capacity; the oldest buffer goes instead
    }
  }
}

// The memory this process may use: physical memory, capped by ulimit -v and a cgroup limit.
std::size_t memory_the_process_may_use() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  std::size_t total = (pages > 0 && page > 0) ? std::size_t(pages) * std::size_t(page) : std::size_t(1) << 32;
  struct rlimit limit {};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) total = std::min<std::size_t>(total, limit.rlim_cur);
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream file(path);
    unsigned long long bytes = 0;
    if (file >> bytes && bytes > 0) total = std::min<std::size_t>(total, bytes);  // "max" fails to parse: no limit
  }
  return total;
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
  if (t_cache_destroyed<T> || (b > limit && (!g_automatic.load(std::memory_order_relaxed) || b > buffer_cache_cap()))) {
    t = TensorOf<T>::from_shape({0});
    return;
  }
  BufferCache<T>& cache = thread_cache<T>();
  if (cache.bytes + b > limit || cache.buffers.size() >= cache.capacity) grow_for(cache, b);
  cache.shrink_to(g_limit_bytes.load(std::memory_order_relaxed) - b, cache.capacity);
  cache.buffers.push_back(std::move(t));  // capacity reserved: no allocation, no throw
  cache.sizes.push_back(b / sizeof(T));
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
  g_automatic.store(false, std::memory_order_relaxed);
  g_limit_bytes.store(bytes, std::memory_order_relaxed);
  if (!t_cache_destroyed<float>) thread_cache<float>().shrink_to(bytes, thread_cache<float>().capacity);
  if (!t_cache_destroyed<double>) thread_cache<double>().shrink_to(bytes, thread_cache<double>().capacity);
}

void set_buffer_cache_automatic(std::size_t start_bytes) {
  set_buffer_cache_limit(std::min(start_bytes, buffer_cache_cap()));
  g_automatic.store(true, std::memory_order_relaxed);
}

bool buffer_cache_is_automatic() { return g_automatic.load(std::memory_order_relaxed); }

std::size_t buffer_cache_limit() { return g_limit_bytes.load(std::memory_order_relaxed); }

std::size_t buffer_cache_cap() {
  static const std::size_t cap = memory_the_process_may_use() / 4;
  return cap;
}

void release_cached_buffers() {
  auto release = [](auto& cache) {
    cache.buffers.clear();
    cache.sizes.clear();
    cache.bytes = 0;
  };
  if (!t_cache_destroyed<float>) release(thread_cache<float>());
  if (!t_cache_destroyed<double>) release(thread_cache<double>());
}

}  // namespace xtgrad
