// The Communicator over MPI (Debian's OpenMPI): the processes started by one
// `mpirun -np N` (or `srun`), each a rank of MPI_COMM_WORLD.
#pragma once

#include <chrono>
#include <memory>

#include "xtgrad/distributed/communicator.hpp"

namespace xtgrad {
namespace distributed {

struct MpiOptions {
  // The most a wait busy-polls MPI before it polls with 20 µs sleeps in between, giving its core
  // away; the budget adapts below it (mpi_communicator.cpp): a wait that had to sleep halves it,
  // one that did not raises it by a quarter. MPI's own waits always spin: the fastest on
  // dedicated cores, and pathological when ranks share cores with other work (a rank spinning
  // for a descheduled peer burns the time slice that peer needs). 1 ms is longer than an
  // allreduce of the seed model's gradient here (~0.1-0.2 ms), so on idle cores the budget
  // stays there and waits as MPI's do; under load it falls to 20 µs. Measured on this 2-core
  // VM, batch 256, one busy process and a load average of ~6.6 from other work: 1 rank 0.48-0.50
  // s/epoch, 2 ranks 0.62-0.89 with a fixed 1 ms spin, 0.49-0.52 adaptive (docs/distributed.md).
  // microseconds::max(): MPI_Wait and MPI_Allreduce themselves.
  std::chrono::microseconds spin{1000};
  // What to do with a launcher's CPU binding once MPI has started (the same on every rank):
  //   automatic  widen it (as `widen`) only where should_widen_affinity() says so: this rank is
  //              pinned to one CPU and the job's ranks on this node fill every CPU the node lets
  //              it use (2 ranks on a 2-core machine). There a rank pinned to a core it shares
  //              with other work cannot move to the core its waiting peer leaves idle: under the
  //              load above, 2 bound ranks took 0.64-0.87 s/epoch, 0.49-0.52 unbound. Where the
  //              job leaves CPUs free (a cluster node with fewer ranks than cores, hybrid MPI +
  //              threads), other work runs there and the launcher's placement is kept.
  //   keep       never touch it;   widen  always let the rank run on every CPU its cpuset allows.
  enum class Affinity { automatic, keep, widen };
  Affinity affinity = Affinity::automatic;
};

// The `automatic` rule: widen a rank bound to `bound_cpus` CPUs when it is pinned to one and the
// `ranks_on_node` ranks of the job on its node are at least the `node_cpus` CPUs it may use.
bool should_widen_affinity(int bound_cpus, int ranks_on_node, int node_cpus);

// Initialises MPI if nobody has (and then finalises it in the destructor), and works on its
// own duplicate of MPI_COMM_WORLD, so its messages never mix with the program's own MPI
// calls. MPI errors throw std::runtime_error naming the call. One per process is enough;
// keep it alive while any DistributedDataParallel uses it.
//
//   xtgrad::distributed::MpiCommunicator comm;        // after main() starts
//   std::printf("rank %d of %d\n", comm.rank(), comm.world_size());
class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(MpiOptions options = {});
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }

  void all_reduce(float* data, std::size_t n, ReduceOp op) override;
  void all_reduce(double* data, std::size_t n, ReduceOp op) override;
  std::unique_ptr<PendingReduction> start_all_reduce(float* data, std::size_t n, ReduceOp op) override;
  std::unique_ptr<PendingReduction> start_all_reduce(double* data, std::size_t n, ReduceOp op) override;
  void broadcast(float* data, std::size_t n, int root) override;
  void broadcast(double* data, std::size_t n, int root) override;
  std::vector<std::string> all_gather(const std::string& mine) override;
  void broadcast_bytes(std::vector<std::uint8_t>& bytes, int root) override;
  void barrier() override;
  [[noreturn]] void abort(int code) override;

  using Communicator::all_reduce;
  using Communicator::broadcast;

  class Waiter;  // how a wait polls (mpi_communicator.cpp)

 private:
  struct Impl;  // holds the MPI_Comm: mpi.h stays out of this header
  std::unique_ptr<Impl> impl_;
  MpiOptions options_;
  std::unique_ptr<Waiter> waiter_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace distributed
}  // namespace xtgrad
