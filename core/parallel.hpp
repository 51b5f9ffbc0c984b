// Intra-op parallelism: one persistent pool of worker threads that xtgrad's ops share.
//
// `parallel_for(begin, end, grain, fn)` splits [begin, end) into contiguous chunks of at
// least `grain` indices, at most `num_threads()` of them, and runs fn(chunk_begin, chunk_end)
// on the calling thread and the pool's workers. The chunks depend only on (end - begin,
// grain, num_threads()), never on timing, so `parallel_reduce` (partials combined in chunk
// order) gives bit-identical results run to run for a given thread count; another thread
// count may round differently.
//
// A call made from inside a chunk, or while another thread is using the pool, runs its
// chunks one after another on the calling thread (same chunks, same order): never a deadlock,
// never oversubscription. Chunk functions must not allocate tensors (the buffer cache is per
// thread) and should not throw; if one does, the first exception is rethrown in the caller
// after every chunk has ended.
//
// The number of threads defaults to the CPUs this process may run on (affinity mask and
// cgroup CPU quota); under a launcher that says R ranks share the node, each takes at most
// min(its CPUs, online CPUs / R, quota / R). XTGRAD_NUM_THREADS overrides it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <string>

namespace xtgrad {

// Threads xtgrad's ops use: the caller plus num_threads() - 1 pool workers.
int num_threads();
// Sets it (1 ... kMaxThreads; std::invalid_argument otherwise). Must not be called from
// inside a parallel_for chunk (std::logic_error). Starts or stops workers at once.
void set_num_threads(int threads);
constexpr int kMaxThreads = 256;

// CPUs this process may run on: its affinity mask, capped by a cgroup (v2 cpu.max or v1
// cfs quota) CPU quota, at least 1.
int available_cpus();
// The default num_threads(): XTGRAD_NUM_THREADS if set (a whole number 1 ... kMaxThreads;
// std::invalid_argument naming the variable otherwise), else available_cpus(), and with R
// ranks on the node (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS) at most online CPUs / R
// (and quota / R), at least 1.
int default_num_threads();

// Whether the calling thread is running a parallel_for chunk (pool worker or caller).
bool in_parallel_region();

namespace parallel_detail {
using ChunkFn = void (*)(const void* context, std::size_t chunk, std::size_t begin, std::size_t end);
// Chunks for `count` indices at `grain` each, capped at num_threads() (0 when count is 0).
std::size_t chunk_count(std::size_t count, std::size_t grain);
// Chunk i of `chunks` over [begin, end): [begin + i·n/chunks, begin + (i+1)·n/chunks).
inline std::size_t chunk_start(std::size_t begin, std::size_t end, std::size_t chunks, std::size_t i) {
  const std::size_t n = end - begin;
  return begin + static_cast<std::size_t>((static_cast<unsigned __int128>(n) * i) / chunks);
}
// Runs fn(context, i, chunk_start(i), chunk_start(i + 1)) for i in [0, chunks).
void run_chunks(std::size_t begin, std::size_t end, std::size_t chunks, ChunkFn fn, const void* context);
// The CPUs in a Linux CPU list ("0-3,8,10-11": 7), or 0 when `list` is not one.
int count_cpu_list(const std::string& list);
}  // namespace parallel_detail

// fn(chunk_begin, chunk_end) over a partition of [begin, end) into chunks of >= grain indices.
template <class F>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, const F& fn) {
  if (end <= begin) return;
  const std::size_t chunks = parallel_detail::chunk_count(end - begin, grain);
  if (chunks <= 1) {
    fn(begin, end);
    return;
  }
  parallel_detail::run_chunks(
      begin, end, chunks,
      [](const void* context, std::size_t, std::size_t b, std::size_t e) { (*static_cast<const F*>(context))(b, e); },
      &fn);
}

// combine(... combine(combine(identity, r0), r1) ..., r_last) where r_i = fn(chunk_begin,
// chunk_end) of chunk i: a fixed order for a given thread count.
template <class R, class F, class Combine>
R parallel_reduce(std::size_t begin, std::size_t end, std::size_t grain, R identity, const F& fn,
                  const Combine& combine) {
  if (end <= begin) return identity;
  const std::size_t chunks = parallel_detail::chunk_count(end - begin, grain);
  if (chunks <= 1) return combine(identity, fn(begin, end));
  R partials[kMaxThreads];
  struct Context {
    const F* fn;
    R* partials;
  } context{&fn, partials};
  parallel_detail::run_chunks(
      begin, end, chunks,
      [](const void* c, std::size_t i, std::size_t b, std::size_t e) {
        const auto* ctx = static_cast<const Context*>(c);
        ctx->partials[i] = (*ctx->fn)(b, e);
      },
      &context);
  R result = identity;
  for (std::size_t i = 0; i < chunks; ++i) result = combine(result, partials[i]);
  return result;
}

// Grain sizes, in elements, for ops whose work per element is about one load, a little
// arithmetic and one store: below this many per thread, waking a worker costs more than it saves.
constexpr std::size_t kElementwiseGrain = 32 * 1024;
// For ops with a transcendental (exp, log, tanh, erf) per element.
constexpr std::size_t kTranscendentalGrain = 4 * 1024;

// RAII: num_threads() is `threads` until destruction, then what it was.
class NumThreadsGuard {
 public:
  explicit NumThreadsGuard(int threads) : previous_(num_threads()) { set_num_threads(threads); }
  ~NumThreadsGuard() { set_num_threads(previous_); }
  NumThreadsGuard(const NumThreadsGuard&) = delete;
  NumThreadsGuard& operator=(const NumThreadsGuard&) = delete;

 private:
  int previous_;
};

}  // namespace xtgrad
