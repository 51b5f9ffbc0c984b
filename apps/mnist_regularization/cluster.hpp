// The ranks of an `mpirun -np N` of the app: data-parallel training, one voice (rank 0), and
// agreement on flags and data. Built over xtgrad::distributed where MPI was found
// (cluster_mpi.cpp), else the single process of today (cluster_single.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "xtgrad/core/defaults.hpp"
#include "xtgrad/nn/gradient_reducer.hpp"

namespace mnist_app {

// How a step went on one rank: exit code 0 when it went well, else the code and the one-line
// message; `rank` is the rank it happened on.
struct Outcome {
  int code = 0;
  std::string message;
  int rank = 0;
};

class Cluster {
 public:
  virtual ~Cluster() = default;
  // The ranks mpirun (or srun) started this process among, or a cluster of one when it was
  // not started by an MPI launcher or the app was built without MPI.
  static std::unique_ptr<Cluster> join();

  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  bool is_root() const { return rank() == 0; }
  // Throws std::invalid_argument on every rank, naming `what`, the ranks and both values,
  // unless every rank passes the same `value`. Collective.
  void check_agreement(const std::string& what, const std::string& value);
  // The outcome of the lowest rank whose step failed (`mine` on one rank), the same on every
  // rank, or success when no rank failed: a failure that only some ranks saw ends every rank
  // alike instead of leaving the others waiting in the next collective. Its message starts
  // with "rank R of N: " unless every rank failed with the same message. Collective.
  Outcome first_failure(const Outcome& mine);
  // The gradient reducer for a model's parameters (rank 0's copied to every rank); null on one rank.
  virtual std::unique_ptr<xtgrad::nn::GradientReducer> make_reducer(const xtgrad::NamedParameters& params) {
    (void)params;
    return nullptr;
  }
  // Every rank's `mine`, indexed by rank. Collective.
  virtual std::vector<std::string> all_gather(const std::string& mine) { return {mine}; }
  // Rank 0's `text` on every rank (the others' are ignored). Collective.
  virtual std::string from_root(const std::string& text) { return text; }
  // Whether any rank's `local` is true (every rank gets the same answer). Collective.
  virtual bool any(bool local) { return local; }
  // Ends every rank with exit code `code`; with one rank, returns `code` for main to return.
  virtual int abort(int code) { return code; }
};

}  // namespace mnist_app
