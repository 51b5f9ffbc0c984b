// DistributedDataParallel in double on the ranks mpirun started (ctest: 2 and 3): the
// construction checks and broadcast, and that N ranks with global batch B train the same
// model as one process with batch B, overlapped or not, with uneven and empty shards, and
// with dropout.
#include <gtest/gtest.h>

#include <iostream>

#include "data_parallel_cases.hpp"

namespace {

using namespace xtgrad_test;
using xtgrad::distributed::ReduceOp;

TEST(DistributedDataParallel, StartsEveryRankFromRankZerosParameters) {
  auto& comm = world();
  Rng mine(7 + 1000 * std::uint64_t(comm.rank()));
  DropoutNet net(5, 4, 3, 0.0, mine);
  DistributedDataParallel ddp(net.named_parameters(), comm);
  Rng rank0(7);
  DropoutNet expected(5, 4, 3, 0.0, rank0);
  EXPECT_EQ(max_relative_difference(net, expected), 0.0) << "rank " << comm.rank();
}

TEST(DistributedDataParallel, ShapeMismatchIsAnErrorOnEveryRankNamingBothShapes) {
  auto& comm = world();
  Rng rng(1);
  DropoutNet net(5, comm.rank() == 1 ? 6 : 4, 3, 0.0, rng);  // rank 1 has a wider hidden layer
  expect_throws_with<std::invalid_argument>(
      [&] { DistributedDataParallel ddp(net.named_parameters(), comm); },
      {"'fc1.weight'", "(4, 5) on rank 0", "(6, 5) on rank 1"});
}

TEST(DistributedDataParallel, NameOrCountMismatchIsAnErrorOnEveryRank) {
  auto& comm = world();
  Rng rng(1);
  DropoutNet net(5, 4, 3, 0.0, rng);
  NamedParameters params = net.named_parameters();
  if (comm.rank() == comm.world_size() - 1) params[2].first = "fc2.w";
  expect_throws_with<std::invalid_argument>([&] { DistributedDataParallel ddp(params, comm); },
                                            {"'fc2.weight' on rank 0", "'fc2.w' on rank"});
  params = net.named_parameters();
  if (comm.rank() == 1) params.pop_back();
  expect_throws_with<std::invalid_argument>([&] { DistributedDataParallel ddp(params, comm); },
                                            {"4 parameters on rank 0 but 3 on rank 1"});
}

TEST(DistributedDataParallel, OverlapStartsEveryBucketDuringBackward) {
  auto& comm = world();
  Rng rng(1);
  DropoutNet net(5, 4, 3, 0.0, rng);
  DataParallelOptions options;
  options.bucket_bytes = 1;  // one parameter per bucket
  for (bool overlap : {true, false}) {
    options.overlap = overlap;
    DistributedDataParallel ddp(net.named_parameters(), comm, options);
    ASSERT_EQ(ddp.bucket_count(), 4u);
    EXPECT_EQ(ddp.bucket_names(0), std::vector<std::string>{"fc2.bias"});  // finished first by backward
    const Variable x(xtgrad::rand_uniform<Scalar>({2, 5}, rng, -1, 1));
    Tensor uniform = xtgrad::nn::zeros<Scalar>({2, 3});
    uniform.fill(Scalar(1.0 / 3));
    const Variable y(uniform);
    for (auto& [name, p] : net.named_parameters()) p.zero_grad();
    ddp.begin_step(2, 2 * std::size_t(comm.world_size()));
    xtgrad::cross_entropy(net(x), y).backward();
    EXPECT_EQ(ddp.buckets_started(), overlap ? 4u : 0u);
    ddp.finish_step(0.0);
    EXPECT_EQ(ddp.buckets_started(), 4u);
  }
}

TEST(DistributedDataParallel, GradientIsTheWholeBatchsWeightedByRows) {
  // Rank r has r + 1 rows and a gradient of all (r + 1): the batch gradient is
  // Σ_r (r + 1)/B · (r + 1) with B = Σ_r (r + 1); the loss likewise.
  auto& comm = world();
  Rng rng(1);
  DropoutNet net(5, 4, 3, 0.0, rng);
  DistributedDataParallel ddp(net.named_parameters(), comm);
  const int n = comm.world_size();
  const std::size_t batch = std::size_t(n * (n + 1) / 2), rows = std::size_t(comm.rank() + 1);
  double expected = 0;
  for (int r = 0; r < n; ++r) expected += double(r + 1) * double(r + 1) / double(batch);
  ddp.begin_step(rows, batch);
  for (auto& [name, p] : net.named_parameters()) {
    p.zero_grad();
    xtgrad::sum(p * Scalar(rows)).backward();  // fires the hook: gradient all `rows`
  }
  const double loss = ddp.finish_step(double(rows));
  EXPECT_NEAR(loss, expected, 1e-12);
  for (auto& [name, p] : net.named_parameters()) {
    for (std::size_t i = 0; i < p.size(); ++i) ASSERT_NEAR(p.grad().data()[i], expected, 1e-12) << name;
  }
}

// N ranks × global batch 64 against one process × 64 (computed on every rank), 50 steps.
void expect_same_as_one_process(RunSpec spec, double tol) {
  auto& comm = world();
  DropoutNet single = train(spec, nullptr);
  DropoutNet parallel = train(spec, &comm);
  const double difference = max_relative_difference(parallel, single);
  EXPECT_LE(difference, tol) << "rank " << comm.rank() << " of " << comm.world_size();
  if (comm.rank() == 0) std::cout << "largest relative parameter difference: " << difference << "\n";
  // And every rank holds the same model.
  double fingerprint = 0;
  for (auto& [name, p] : parallel.named_parameters()) fingerprint += double(xtgrad::sum(p).item());
  double lo = fingerprint, hi = fingerprint;
  comm.all_reduce(&lo, 1, ReduceOp::min);
  comm.all_reduce(&hi, 1, ReduceOp::max);
  EXPECT_EQ(lo, hi);
}

TEST(DistributedDataParallel, OverlappedMatchesOneProcessAfter50Steps) {
  RunSpec spec;
  expect_same_as_one_process(spec, 1e-10);
}

TEST(DistributedDataParallel, NonOverlappedMatchesOneProcessAfter50Steps) {
  RunSpec spec;
  spec.ddp.overlap = false;
  expect_same_as_one_process(spec, 1e-10);
}

TEST(DistributedDataParallel, SmallBucketsAndAPenaltyMatchOneProcess) {
  RunSpec spec;
  spec.ddp.bucket_bytes = 64;
  spec.l2 = 0.01;
  expect_same_as_one_process(spec, 1e-10);
}

TEST(DistributedDataParallel, UnevenLastBatchAndEmptyShardsMatchOneProcess) {
  // 3,201 rows: 50 batches of 64 and a last one of 1 row, which all ranks but rank 0 see empty;
  // 2 epochs, so the second starts from a reshuffle.
  RunSpec spec;
  spec.rows = 64 * 50 + 1;
  spec.epochs = 2;
  spec.l2 = 0.01;
  expect_same_as_one_process(spec, 1e-10);
  spec.ddp.bucket_bytes = 64;  // the weights reduced in place in their gradients, empty shards too
  expect_same_as_one_process(spec, 1e-10);
  spec.ddp.overlap = false;
  spec.rows = 64 * 50 + 37;  // 37 rows: uneven on 2 and 3 ranks
  expect_same_as_one_process(spec, 1e-10);
}

TEST(DistributedDataParallel, DropoutMasksMatchOneProcess) {
  // nn::Dropout draws each sample's mask by its place in the global batch, not by its rank
  // (nn/batch_shard.hpp): the same masks as one process, so the same model. 2 epochs, the
  // last batch of 37 rows uneven on 2 and 3 ranks.
  RunSpec spec;
  spec.dropout = 0.5;
  spec.rows = 64 * 50 + 37;
  spec.epochs = 2;
  expect_same_as_one_process(spec, 1e-10);
}

TEST(DistributedDataParallel, OverlappedEqualsNonOverlapped) {
  auto& comm = world();
  RunSpec spec;
  DropoutNet overlapped = train(spec, &comm);
  spec.ddp.overlap = false;
  DropoutNet plain = train(spec, &comm);
  EXPECT_LE(max_relative_difference(overlapped, plain), 1e-12);
}

}  // namespace
