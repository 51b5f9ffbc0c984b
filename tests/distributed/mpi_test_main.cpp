// main() of the tests run under mpirun: every rank runs every test (the collectives need all
// of them); each rank prints its own results, and mpirun fails if any rank fails.
#include <gtest/gtest.h>

#include <memory>

#include "mpi_test_main.hpp"

namespace {
std::unique_ptr<xtgrad::distributed::MpiCommunicator> g_world;
}

namespace xtgrad_test {
xtgrad::distributed::MpiCommunicator& world() { return *g_world; }
}  // namespace xtgrad_test

int main(int argc, char** argv) {
  g_world = std::make_unique<xtgrad::distributed::MpiCommunicator>();
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  g_world.reset();  // MPI_Finalize
  return result;
}
