// SingleProcessCommunicator, built and run without MPI (tests/CMakeLists.txt adds it in every
// build): a group of one whose every collective leaves the data as it is.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/distributed/single_process_communicator.hpp"

namespace {

using xtgrad::distributed::Communicator;
using xtgrad::distributed::ReduceOp;
using xtgrad::distributed::SingleProcessCommunicator;
using xtgrad_test::expect_throws_with;

TEST(SingleProcessCommunicator, IsRankZeroOfOne) {
  SingleProcessCommunicator comm;
  EXPECT_EQ(comm.rank(), 0);
  EXPECT_EQ(comm.world_size(), 1);
}

TEST(SingleProcessCommunicator, EveryReductionIsTheIdentity) {
  SingleProcessCommunicator one;
  Communicator& comm = one;  // used through the interface, as a program written for MPI does
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max, ReduceOp::min}) {
    std::vector<float> f{1.5f, -2.0f, 3.25f};
    std::vector<double> d{0.1, -7.0};
    comm.all_reduce(f.data(), f.size(), op);
    comm.all_reduce(d.data(), d.size(), op);
    EXPECT_EQ(f, (std::vector<float>{1.5f, -2.0f, 3.25f})) << int(op);
    EXPECT_EQ(d, (std::vector<double>{0.1, -7.0})) << int(op);
    auto pending = comm.start_all_reduce(d.data(), d.size(), op);
    EXPECT_TRUE(pending->done());
    pending->wait();
    EXPECT_EQ(d, (std::vector<double>{0.1, -7.0}));
  }
  xtgrad::TensorOf<float> t = xtgrad::TensorOf<float>::from_shape({2, 2});
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = float(i);
  comm.all_reduce(t, ReduceOp::mean);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t.data()[i], float(i));
}

TEST(SingleProcessCommunicator, BroadcastsFromRankZeroKeepTheData) {
  SingleProcessCommunicator one;
  Communicator& comm = one;
  std::vector<double> d{4.0, 5.0};
  comm.broadcast(d.data(), d.size(), 0);
  EXPECT_EQ(d, (std::vector<double>{4.0, 5.0}));
  std::vector<std::uint8_t> bytes{1, 2, 3}, none;
  comm.broadcast_bytes(bytes, 0);
  comm.broadcast_bytes(none, 0);
  EXPECT_EQ(bytes, (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(comm.all_gather("mine"), std::vector<std::string>{"mine"});
  comm.barrier();
}

TEST(SingleProcessCommunicator, ARootOtherThanZeroIsRefusedByName) {
  SingleProcessCommunicator comm;
  std::vector<std::uint8_t> bytes{9};
  double x = 1;
  expect_throws_with<std::invalid_argument>([&] { comm.broadcast_bytes(bytes, 1); },
                                            {"broadcast_bytes", "root 1", "group of 1"});
  expect_throws_with<std::invalid_argument>([&] { comm.broadcast(&x, 1, -1); }, {"broadcast", "root -1"});
}

TEST(SingleProcessCommunicatorDeathTest, AbortEndsTheProcessWithTheCode) {
  SingleProcessCommunicator comm;
  EXPECT_EXIT(comm.abort(7), ::testing::ExitedWithCode(7), "");
}

}  // namespace
