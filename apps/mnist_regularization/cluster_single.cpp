// join_ranks and make_reducer without MPI (the app built where MPI is not installed): always
// one process.
#include "cluster.hpp"
#include "xtgrad/distributed/single_process_communicator.hpp"

namespace mnist_app {

std::unique_ptr<Communicator> join_ranks() { return std::make_unique<xtgrad::distributed::SingleProcessCommunicator>(); }

std::unique_ptr<xtgrad::nn::GradientReducer> make_reducer(Communicator&, const xtgrad::NamedParameters&) {
  return nullptr;
}

}  // namespace mnist_app
