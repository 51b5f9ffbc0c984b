// The Communicator over MPI (Debian's OpenMPI): the processes started by one
// `mpirun -np N` (or `srun`), each a rank of MPI_COMM_WORLD.
#pragma once

#include <chrono>
#include <memory>

#include "xtgrad/distributed/communicator.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace distributed {

struct MpiOptions {
  // How long a wait busy-polls MPI before it polls with 20 µs sleeps in between, giving its core
  // away. MPI's own waits always spin: the fastest on dedicated cores, and pathological when
  // ranks share cores with other work (a rank spinning for a descheduled peer burns the time
  // slice that peer needs; measured on this 2-core VM under a load of ~6: 2 ranks took 2.2-2.9
  // s/epoch spinning, 1.1-1.2 s with this default). 1 ms is longer than an allreduce of the
  // seed model's gradient here (~0.1-0.2 ms), so on idle cores the default waits as MPI's do.
  // microseconds::max(): MPI_Wait and MPI_Allreduce themselves.
  std::chrono::microseconds spin{1000};
};

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
  void barrier() override;
  [[noreturn]] void abort(int code) override;

  using Communicator::all_reduce;
  using Communicator::broadcast;

 private:
  struct Impl;  // holds the MPI_Comm: mpi.h stays out of this header
  std::unique_ptr<Impl> impl_;
  MpiOptions options_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace distributed
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
