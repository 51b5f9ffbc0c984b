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
  // How long a rank busy-polls for a reduction to complete before it polls with short
  // sleeps in between (giving its core away). max(): MPI's own waits, which always spin:
  // the fastest on idle cores, and pathological when ranks share their cores with other
  // work (a spinning rank burns the time slice its descheduled peer needs).
  std::chrono::microseconds spin = std::chrono::microseconds::max();
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
