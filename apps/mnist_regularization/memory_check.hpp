// A run's memory, checked before it starts: the estimate (limits.hpp) plus the raw MNIST files
// and OpenBLAS's work buffers against what this process may allocate; OpenBLAS's buffers taken
// first; and the message when memory runs out anyway.
#pragma once

#include <cstdint>
#include <string>

#include "cluster.hpp"
#include "limits.hpp"

namespace mnist_app {

// The run's memory need against what this process may allocate, both measured once, when made
// (before OpenBLAS takes its buffers and the data is loaded).
class MemoryPlan {
 public:
  MemoryPlan(const Config& config, const MemoryNeed& need);
  // Exit 6 naming the flag that dominates, when the run cannot fit; success otherwise, or when
  // XTGRAD_NO_MEMORY_CHECK=1 (scripts/fault_test.sh uses it to reach the watchdog and the
  // std::bad_alloc path behind it).
  Outcome refusal() const;
  // "out of memory while PHASE (the run needs about ..., most of it for ...; this process may
  // allocate ... (...))".
  std::string out_of_memory(const std::string& phase) const;

 private:
  std::uint64_t total() const;
  std::uint64_t blas_buffers() const;
  const Config& config_;
  MemoryNeed need_;
  int blas_threads_;
  std::uint64_t available_;
};

// Lowers config.threads (not below 1) until the run fits the memory this process may use: each
// thread that runs products takes an OpenBLAS buffer of 128 MiB. For the default --threads
// only; an explicit --threads that does not fit is refused (MemoryPlan::refusal).
void fit_default_threads_to_memory(Config& config, const MemoryNeed& need);

// Sets OpenBLAS to `threads` and runs a first product, so that it takes its work buffers
// before anything else is allocated (a later shortage is then a std::bad_alloc of ours);
// should it loop anyway, a watchdog ends the process with exit 6.
void take_blas_buffers(int threads);

}  // namespace mnist_app
