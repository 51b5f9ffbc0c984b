// RunResults as text, to send the runs a rank trained to rank 0 (--sweep over MPI ranks).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "experiment.hpp"

namespace mnist_app {

// (run index, result) pairs as one JSON string, every number exact.
std::string encode_runs(const std::vector<std::pair<std::size_t, RunResult>>& runs);
// The inverse; std::invalid_argument if `text` is not what encode_runs wrote.
std::vector<std::pair<std::size_t, RunResult>> decode_runs(const std::string& text);

}  // namespace mnist_app
