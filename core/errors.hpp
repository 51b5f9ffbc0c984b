// Error types the app maps to exit codes. Caller mistakes in the library throw
// std::invalid_argument; broken invariants std::logic_error.
#pragma once

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

}  // namespace xtgrad
