#include "memory_check.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "blas_pool.hpp"
#include "process.hpp"
#include "xtgrad/core/gemm.hpp"

namespace mnist_app {

// Besides the estimate: the raw MNIST files (~55 MB) and OpenBLAS 0.3.21's work buffer, a
// 128 MiB malloc per thread (BUFFER_SIZE, fixed when it was built: no setting changes it),
// retried forever when it fails (a hang under ulimit -v). Its threads: --threads, or more when
// the environment gave OpenBLAS more (blas_pool.cpp).
constexpr std::uint64_t raw_mnist = 70000ull * 785;

MemoryPlan::MemoryPlan(const Config& config, const MemoryNeed& need)
    : config_(config),
      need_(need),
      blas_threads_(std::max(config.threads, blas_pool_threads())),
      available_(memory_available()) {}

std::uint64_t MemoryPlan::blas_buffers() const { return std::uint64_t(blas_threads_) * (128ull << 20); }
std::uint64_t MemoryPlan::total() const { return need_.total() + raw_mnist + blas_buffers(); }

Outcome MemoryPlan::refusal() const {
  const char* no_check = std::getenv("XTGRAD_NO_MEMORY_CHECK");
  if ((no_check && std::string(no_check) == "1") || available_ == 0 || total() <= available_) return {};
  return {exit_memory,
          fmt::format("{}: the run needs about {} ({} data, {} model, {} activations, {} OpenBLAS buffers for {}) but "
                      "this process may allocate only {} more ({}); use smaller values",
                      largest_part(config_, need_), format_bytes(total()), format_bytes(need_.data + raw_mnist),
                      format_bytes(need_.model), format_bytes(need_.activations), format_bytes(blas_buffers()),
                      blas_threads_ == config_.threads
                          ? fmt::format("--threads {}", config_.threads)
                          : fmt::format("its {} threads (OPENBLAS_NUM_THREADS or OMP_NUM_THREADS)", blas_threads_),
                      format_bytes(available_), memory_limited() ? "ulimit -v" : "RAM + swap")};
}

std::string MemoryPlan::out_of_memory(const std::string& phase) const {
  return fmt::format("out of memory while {} (the run needs about {}, most of it for {}; this process may allocate {} "
                     "({}))",
                     phase, format_bytes(total()), largest_part(config_, need_), format_bytes(available_),
                     memory_limited() ? "ulimit -v" : "RAM + swap");
}

void fit_default_threads_to_memory(Config& config, const MemoryNeed& need) {
  while (config.threads > 1 && MemoryPlan(config, need).refusal().code != 0) --config.threads;
}

void take_blas_buffers(int threads) {
  xtgrad::set_blas_threads(threads);
  BlasWatchdog watchdog(30);
  // Large: OpenBLAS computes products of up to ~10^6 multiply-adds without its buffer, and
  // gemm splits this one over the threads, each of which takes a buffer of its own.
  constexpr std::size_t n = 256;
  const std::vector<xtgrad::Scalar> a(n * n, 1);
  std::vector<xtgrad::Scalar> c(n * n);
  xtgrad::gemm(false, false, n, n, n, 1, a.data(), a.data(), 0, c.data());
}

}  // namespace mnist_app
