// The communicator shared by the tests of one MPI test program (mpi_test_main.cpp owns it).
#pragma once

#include "xtgrad/distributed/mpi_communicator.hpp"

namespace xtgrad_test {
// Initialised before the first test, finalised after the last.
xtgrad::distributed::MpiCommunicator& world();
}  // namespace xtgrad_test
