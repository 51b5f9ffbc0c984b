// Error types the app maps to exit codes. Caller mistakes in the library throw
// std::invalid_argument; broken invariants std::logic_error.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace xtgrad {

// A data file is missing, unreadable, corrupt or inconsistent. The message names the file.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Training produced a non-finite loss. The message names the epoch and batch.
struct DivergenceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Training was stopped on request (nn::FitOptions::should_stop). `epoch` (1-based) is the
// epoch that was running; the epochs before it completed.
struct Interrupted : std::runtime_error {
  // `what` says where training stopped; `epoch` is the epoch that was running.
  Interrupted(const std::string& what, std::size_t epoch) : std::runtime_error(what), epoch(epoch) {}
  std::size_t epoch;  // 1-based
};

}  // namespace xtgrad
