// The errors nn::fit throws when training ends early or cannot resume (they were in core/errors.hpp, which now
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

// fit refused to resume from a checkpoint made for another run (FitOptions::checkpoint): other
// settings, other data, another model, another number of processes or more epochs. The
// message names the file and what differs.
struct CheckpointMismatch : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

}  // namespace xtgrad
