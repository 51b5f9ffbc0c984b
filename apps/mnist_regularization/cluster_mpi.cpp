// join_ranks and make_reducer where MPI was found: MPI is initialised only when an MPI launcher
// started this process (its environment says so), so a plain run stays one process.
#include <cstdlib>

#include "cluster.hpp"
#include "xtgrad/distributed/data_parallel.hpp"
#include "xtgrad/distributed/mpi_communicator.hpp"
#include "xtgrad/distributed/single_process_communicator.hpp"

namespace mnist_app {
namespace {

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Communicator> join_ranks() {
  if (!launched_by_mpi()) return std::make_unique<xtgrad::distributed::SingleProcessCommunicator>();
  return std::make_unique<xtgrad::distributed::MpiCommunicator>();
}

std::unique_ptr<xtgrad::nn::GradientReducer> make_reducer(Communicator& ranks, const xtgrad::NamedParameters& params) {
  if (ranks.world_size() == 1) return nullptr;
  return std::make_unique<xtgrad::distributed::DistributedDataParallel>(params, ranks);
}

}  // namespace mnist_app
