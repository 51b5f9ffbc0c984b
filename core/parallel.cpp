// The worker pool behind parallel_for (parallel.hpp).
//
// One job at a time: the caller writes (fn, context, range) and publishes a ticket, one
// atomic word holding the job's generation, its chunk count and the next chunk to take.
// Workers and caller claim chunks by compare-and-swap on the ticket, which fails once the
// generation moved on, so a late worker can never take a chunk of the next job; a claimed
// chunk keeps its job pending, so the fields it reads stay put. The caller waits for the
// last chunk to finish. Workers spin for a short while
// after each job (ops come back to back within a training step: a sleeping worker would cost
// a futex wake-up, 5-50 µs, per op), then sleep on a condition variable. Nothing allocates
// per job.
#include "xtgrad/core/parallel.hpp"

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XTGRAD_CPU_RELAX() _mm_pause()
#else
#define XTGRAD_CPU_RELAX() std::this_thread::yield()
#endif

namespace xtgrad {
namespace {

thread_local bool in_chunk = false;

// How long an idle worker spins before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(200);

class Pool {
 public:
  ~Pool() { stop_workers(); }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void resize(int threads) {
    std::lock_guard<std::mutex> job_lock(job_mutex_);  // no job runs while workers change
    if (threads == this->threads() && int(workers_.size()) == threads - 1) return;
    stop_workers();
    threads_.store(threads, std::memory_order_relaxed);
    workers_.reserve(std::size_t(threads - 1));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  void run(std::size_t begin, std::size_t end, std::size_t chunks, parallel_detail::ChunkFn fn, const void* context) {
    if (in_chunk) {  // nested: this thread may hold job_mutex_ already
      run_inline(begin, end, chunks, fn, context);
      return;
    }
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::try_to_lock);
    if (!job_lock.owns_lock() || workers_.empty()) {
      run_inline(begin, end, chunks, fn, context);  // the pool is busy with another thread's job
      return;
    }
    begin_ = begin;
    end_ = end;
    chunks_ = chunks;
    fn_ = fn;
    context_ = context;
    error_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    pending_.store(chunks, std::memory_order_relaxed);
    const std::uint64_t generation = (generation_of(ticket_.load(std::memory_order_relaxed)) + 1) & kGenerationMask;
    ticket_.store((generation << 32) | (std::uint64_t(chunks) << 16), std::memory_order_seq_cst);  // publishes the above
    if (sleeping_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(sleep_mutex_); }
      wake_.notify_all();
    }
    take_chunks(generation);
    for (unsigned spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
      if (spins < 4096) {
        XTGRAD_CPU_RELAX();
      } else {
        std::this_thread::yield();  // a worker was descheduled: give it the core
      }
    }
    if (failed_.load(std::memory_order_acquire)) std::rethrow_exception(error_);
  }

 private:
  static void run_inline(std::size_t begin, std::size_t end, std::size_t chunks, parallel_detail::ChunkFn fn,
                         const void* context) {
    const bool outer = !in_chunk;
    in_chunk = true;
    try {
      for (std::size_t i = 0; i < chunks; ++i) {
        fn(context, i, parallel_detail::chunk_start(begin, end, chunks, i),
           parallel_detail::chunk_start(begin, end, chunks, i + 1));
      }
    } catch (...) {
      if (outer) in_chunk = false;
      throw;
    }
    if (outer) in_chunk = false;
  }

  // Ticket layout: generation (bits 32-55), chunk count (16-31), next chunk (0-15).
  static constexpr std::uint64_t kGenerationMask = 0xFFFFFF;
  static std::uint64_t generation_of(std::uint64_t t) { return (t >> 32) & kGenerationMask; }

  // Claims the next chunk of job `generation`; false when it has none left or is over.
  bool claim(std::uint64_t generation, std::size_t& chunk) {
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      const std::size_t next = t & 0xFFFF, count = (t >> 16) & 0xFFFF;
      if (generation_of(t) != generation || next >= count) return false;
      if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        chunk = next;
        return true;
      }
    }
  }

  // Runs chunks of job `generation` until none is left to take.
  void take_chunks(std::uint64_t generation) {
    in_chunk = true;
    std::size_t i = 0;
    while (claim(generation, i)) {
      try {
        fn_(context_, i, parallel_detail::chunk_start(begin_, end_, chunks_, i),
            parallel_detail::chunk_start(begin_, end_, chunks_, i + 1));
      } catch (...) {
        if (!failed_.exchange(true, std::memory_order_acq_rel)) error_ = std::current_exception();
      }
      pending_.fetch_sub(1, std::memory_order_acq_rel);  // after this the job's fields may change
    }
    in_chunk = false;
  }

  void worker_loop() {
    std::uint64_t seen = generation_of(ticket_.load(std::memory_order_acquire));
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() + kSpin;
      unsigned spins = 0;
      while (generation_of(ticket_.load(std::memory_order_acquire)) == seen &&
             !stopping_flag_.load(std::memory_order_acquire)) {
        XTGRAD_CPU_RELAX();
        if (++spins % 64 == 0 && std::chrono::steady_clock::now() > spin_until) {
          std::unique_lock<std::mutex> lock(sleep_mutex_);
          sleeping_.fetch_add(1, std::memory_order_seq_cst);
          wake_.wait(lock, [&] {
            return generation_of(ticket_.load(std::memory_order_seq_cst)) != seen ||
                   stopping_flag_.load(std::memory_order_seq_cst);
          });
          sleeping_.fetch_sub(1, std::memory_order_seq_cst);
          break;
        }
      }
      if (stopping_flag_.load(std::memory_order_acquire)) return;
      seen = generation_of(ticket_.load(std::memory_order_acquire));
      take_chunks(seen);
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stopping_flag_.store(true, std::memory_order_seq_cst);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    stopping_flag_.store(false, std::memory_order_seq_cst);
  }

  std::mutex job_mutex_;  // held by the thread whose job the pool runs
  std::vector<std::thread> workers_;
  std::atomic<int> threads_{1};
  std::atomic<bool> stopping_flag_{false};

  // The current job (written by its caller before the generation bump, read after it).
  std::size_t begin_ = 0, end_ = 0, chunks_ = 0;  // chunks_ <= kMaxThreads fits the ticket
  parallel_detail::ChunkFn fn_ = nullptr;
  const void* context_ = nullptr;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> ticket_{0};

  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleeping_{0};
};

// Constructed on first use, sized to default_num_threads() then.
Pool& pool() {
  static Pool* instance = [] {
    auto* p = new Pool;  // never destroyed: ops may run from static destructors of other files
    p->resize(default_num_threads());
    return p;
  }();
  return *instance;
}

// A whole number in [lo, hi] from `text`, or -1.
long parse_whole(const char* text, long lo, long hi) {
  if (!text || !*text) return -1;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*end != '\0' || v < lo || v > hi) return -1;
  return v;
}

// CPUs a cgroup quota allows (ceil(quota / period)), or 0 when there is none.
int cgroup_quota_cpus() {
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string quota, period;
  if (v2 >> quota >> period) {
    if (quota == "max") return 0;
    const double q = std::atof(quota.c_str()), p = std::atof(period.c_str());
    return (q > 0 && p > 0) ? int(std::ceil(q / p)) : 0;
  }
  std::ifstream q1("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), p1("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double q = 0, p = 0;
  if ((q1 >> q) && (p1 >> p) && q > 0 && p > 0) return int(std::ceil(q / p));
  return 0;
}

// The CPUs of this container's cpuset (docker --cpuset-cpus, a Kubernetes CPU manager): cgroup
// v2's cpuset.cpus.effective, else v1's; 0 when neither is readable. Unlike sched_getaffinity,
// which a launcher may narrow per rank, this is what all the ranks on the node share.
int cgroup_cpuset_cpus() {
  for (const char* path : {"/sys/fs/cgroup/cpuset.cpus.effective", "/sys/fs/cgroup/cpuset/cpuset.effective_cpus"}) {
    std::ifstream in(path);
    std::string list;
    if (in >> list) {
      if (const int n = parallel_detail::count_cpu_list(list); n > 0) return n;
    }
  }
  return 0;
}

int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  return CPU_COUNT(&set);
}

}  // namespace

int available_cpus() {
  int cpus = affinity_cpus();
  if (cpus <= 0) cpus = int(std::thread::hardware_concurrency());
  const int quota = cgroup_quota_cpus();
  if (quota > 0 && quota < cpus) cpus = quota;
  return std::clamp(cpus, 1, kMaxThreads);
}

int default_num_threads() {
  const char* text = std::getenv("XTGRAD_NUM_THREADS");
  if (text && *text) {  // set and not empty
    const long v = parse_whole(text, 1, kMaxThreads);
    if (v < 0) {
      throw std::invalid_argument("XTGRAD_NUM_THREADS='" + std::string(text) + "': expected a whole number from 1 to " +
                                  std::to_string(kMaxThreads));
    }
    return int(v);
  }
  const int cpus = available_cpus();
  // The R ranks of a job on one node (the launcher says how many) share its CPUs: each takes at
  // most its share, node / R (node: the container's cpuset, else the online CPUs), and its share
  // of a cgroup quota, quota / R, however it was bound:
  // unbound (each sees every CPU), one core each, a socket or NUMA node shared by several (Open
  // MPI's default binding above 2 ranks), or pe=T cores each (hybrid: keeps its T). So
  // ranks × threads fit the node's CPUs, or there is one thread per rank where ranks outnumber them.
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}) {
    const long ranks = parse_whole(std::getenv(name), 1, 1 << 20);
    if (ranks < 1) continue;  // not set by this launcher
    long node = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
    if (const int cpuset = cgroup_cpuset_cpus(); cpuset > 0 && cpuset < node) node = cpuset;
    long share = std::min<long>(cpus, node / ranks);
    if (const int quota = cgroup_quota_cpus(); quota > 0) share = std::min<long>(share, quota / ranks);
    return int(std::max(1L, share));
  }
  return cpus;
}

int num_threads() { return pool().threads(); }

void set_num_threads(int threads) {
  if (threads < 1 || threads > kMaxThreads) {
    throw std::invalid_argument("set_num_threads(" + std::to_string(threads) + "): expected 1 to " +
                                std::to_string(kMaxThreads));
  }
  if (in_chunk) throw std::logic_error("set_num_threads: called from inside a parallel_for chunk");
  pool().resize(threads);
}

bool in_parallel_region() { return in_chunk; }

namespace parallel_detail {

int count_cpu_list(const std::string& list) {
  // Items "a" or "a-b" (a <= b) joined by commas; anything else is not a CPU list.
  long count = 0;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    if (item.find_first_not_of("0123456789-") != std::string::npos) return 0;  // (strtol skips spaces)
    const std::size_t dash = item.find('-');
    const long a = parse_whole(item.substr(0, dash).c_str(), 0, 1 << 20);
    const long b = dash == std::string::npos ? a : parse_whole(item.substr(dash + 1).c_str(), 0, 1 << 20);
    if (a < 0 || b < a) return 0;
    count += b - a + 1;
    pos = comma + 1;
  }
  return int(std::min<long>(count, 1 << 20));
}

std::size_t chunk_count(std::size_t count, std::size_t grain) {
  if (count == 0) return 0;
  const std::size_t by_grain = grain > 0 ? std::max<std::size_t>(1, count / grain) : count;
  return std::min<std::size_t>(by_grain, std::size_t(pool().threads()));
}

void run_chunks(std::size_t begin, std::size_t end, std::size_t chunks, ChunkFn fn, const void* context) {
  pool().run(begin, end, chunks, fn, context);
}

}  // namespace parallel_detail
}  // namespace xtgrad
