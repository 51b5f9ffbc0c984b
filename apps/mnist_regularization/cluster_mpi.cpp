// Cluster over xtgrad::distributed: MPI is initialised only when an MPI launcher started this
// process (its environment says so), so a plain run stays exactly today's app.
#include <cstdlib>
#include <iostream>

#include "cluster.hpp"
#include "xtgrad/distributed/data_parallel.hpp"
#include "xtgrad/distributed/mpi_communicator.hpp"

namespace mnist_app {
namespace {

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

class MpiCluster : public Cluster {
 public:
  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.world_size(); }

  std::unique_ptr<xtgrad::nn::GradientReducer> make_reducer(const xtgrad::NamedParameters& params) override {
    return std::make_unique<xtgrad::distributed::DistributedDataParallel>(params, comm_);
  }

  std::vector<std::string> all_gather(const std::string& mine) override { return comm_.all_gather(mine); }

  std::string from_root(const std::string& text) override {
    // (all_gather of the others' empty strings: one collective the communicator already has)
    return comm_.all_gather(comm_.rank() == 0 ? text : std::string())[0];
  }

  bool any(bool local) override {
    double flag = local ? 1 : 0;
    comm_.all_reduce(&flag, 1, xtgrad::distributed::ReduceOp::max);
    return flag > 0;
  }

  int abort(int code) override {
    std::cout.flush();
    std::cerr.flush();
    comm_.abort(code);
  }

 private:
  xtgrad::distributed::MpiCommunicator comm_;
};

}  // namespace

std::unique_ptr<Cluster> Cluster::join() {
  if (!launched_by_mpi()) return std::make_unique<Cluster>();
  return std::make_unique<MpiCluster>();
}

}  // namespace mnist_app
