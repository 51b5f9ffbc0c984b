// The ranks of an `mpirun -np N` of the app, over xtgrad::distributed's Communicator: which
// one this process joins (an MpiCommunicator where MPI was found and a launcher started it,
// else the SingleProcessCommunicator), and the app's agreements over it: flags and data the
// same everywhere, one failure ending every rank alike, one voice (rank 0).
#pragma once

#include <memory>
#include <string>

#include "xtgrad/core/defaults.hpp"
#include "xtgrad/distributed/communicator.hpp"
#include "xtgrad/nn/gradient_reducer.hpp"

namespace mnist_app {

using xtgrad::distributed::Communicator;

// How a step went on one rank: exit code 0 when it went well, else the code and the one-line
// message; `rank` is the rank it happened on.
struct Outcome {
  int code = 0;
  std::string message;
  int rank = 0;
};

// The ranks mpirun (or srun) started this process among, or a group of one when it was not
// started by an MPI launcher or the app was built without MPI (cluster_mpi.cpp, cluster_single.cpp).
std::unique_ptr<Communicator> join_ranks();
// The gradient reducer for a model's parameters (rank 0's values copied to every rank); null
// on one rank.
std::unique_ptr<xtgrad::nn::GradientReducer> make_reducer(Communicator& ranks, const xtgrad::NamedParameters& params);

// Throws std::invalid_argument on every rank, naming `what`, the ranks and both values,
// unless every rank passes the same `value`. Collective.
void check_agreement(Communicator& ranks, const std::string& what, const std::string& value);
// The outcome of the lowest rank whose step failed (`mine` on one rank), the same on every
// rank, or success when no rank failed: a failure that only some ranks saw ends every rank
// alike instead of leaving the others waiting in the next collective. Its message starts
// with "rank R of N: " unless every rank failed with the same message. Collective.
Outcome first_failure(Communicator& ranks, const Outcome& mine);
// Rank 0's `text` on every rank (the others' are ignored). Collective.
std::string from_root(Communicator& ranks, const std::string& text);
// Whether any rank's `local` is true (every rank gets the same answer). Collective.
bool any(Communicator& ranks, bool local);
// Ends every rank with exit code `code` (streams flushed first); with one rank, returns `code`
// for main to return.
int end_every_rank(Communicator& ranks, int code);

}  // namespace mnist_app
