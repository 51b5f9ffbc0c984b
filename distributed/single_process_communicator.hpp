// A Communicator of one process, needing no MPI: every collective is the identity (a sum, mean,
// max or min over one rank is its own value; a broadcast from rank 0 leaves the data as it is).
// A program written against Communicator runs unchanged as one process with it, e.g. when it
// was not started by mpirun or was built without MPI.
//
// Header-only on purpose: distributed/'s library (xtgrad::distributed) is built only where MPI
// is found, and this one must be usable where it is not, with xtgrad::xtgrad alone (the
// top-level CMakeLists.txt installs this header and communicator.hpp in every build).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "xtgrad/distributed/communicator.hpp"

namespace xtgrad {
namespace distributed {

class SingleProcessCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }

  void all_reduce(float*, std::size_t, ReduceOp) override {}
  void all_reduce(double*, std::size_t, ReduceOp) override {}
  std::unique_ptr<PendingReduction> start_all_reduce(float*, std::size_t, ReduceOp) override {
    return std::make_unique<Done>();
  }
  std::unique_ptr<PendingReduction> start_all_reduce(double*, std::size_t, ReduceOp) override {
    return std::make_unique<Done>();
  }
  void broadcast(float*, std::size_t, int root) override { check_root("broadcast", root); }
  void broadcast(double*, std::size_t, int root) override { check_root("broadcast", root); }
  std::vector<std::string> all_gather(const std::string& mine) override { return {mine}; }
  void broadcast_bytes(std::vector<std::uint8_t>&, int root) override { check_root("broadcast_bytes", root); }
  void barrier() override {}
  // Ends the process with exit code `code` (std::exit: streams flushed, static objects destroyed).
  [[noreturn]] void abort(int code) override {
    std::fflush(nullptr);
    std::exit(code);
  }

  using Communicator::all_reduce;
  using Communicator::broadcast;

 private:
  // A reduction over one rank is complete when it starts.
  struct Done : PendingReduction {
    bool done() override { return true; }
    void wait() override {}
  };
  static void check_root(const char* call, int root) {
    if (root != 0) {
      throw std::invalid_argument(std::string(call) + ": root " + std::to_string(root) +
                                  " is not a rank of a group of 1");
    }
  }
};

}  // namespace distributed
}  // namespace xtgrad
