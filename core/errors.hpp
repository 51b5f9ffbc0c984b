// Error types the app maps to exit codes. Caller mistakes in the library throw
// std::invalid_argument; broken invariants std::logic_error. (The training errors,
// DivergenceError and Interrupted, are nn's: <xtgrad/nn/training_errors.hpp>.)
#pragma once

#include <stdexcept>

namespace xtgrad {

// A data file is missing, unreadable, corrupt or inconsistent. The message names the file.
// Thrown by io/ (npz, IDX, MNIST) and nn/'s checkpoints; io::WriteError, a failed write, is one.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace xtgrad
