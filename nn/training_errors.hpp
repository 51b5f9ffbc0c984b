// The errors nn::fit throws when training ends early (they were in core/errors.hpp, which now
// holds only DataError). Kept in namespace xtgrad, as before, so catch clauses keep compiling.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace xtgrad {

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
