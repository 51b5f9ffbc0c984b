// DistributedDataParallel in float, the seed model (784-200-10 sigmoid, SGD 0.1, batch 64):
// one epoch of 20,000 rows on N ranks against one process, every parameter to 1e-5 relative.
#include <gtest/gtest.h>

#include <iostream>

#include "data_parallel_cases.hpp"

namespace {

using namespace xtgrad_test;

RunSpec seed_model() {
  RunSpec spec;
  spec.features = 784;
  spec.hidden = 200;
  spec.classes = 10;
  spec.rows = 20000;  // 312 batches of 64 and one of 32
  spec.batch = 64;
  spec.lr = 0.1;
  return spec;
}

TEST(DistributedDataParallelF32, SeedModelOneEpochMatchesOneProcess) {
  for (bool overlap : {true, false}) {
    RunSpec spec = seed_model();
    spec.ddp.overlap = overlap;
    DropoutNet single = train(spec, nullptr);
    DropoutNet parallel = train(spec, &world());
    const double difference = max_relative_difference(parallel, single);
    if (world().rank() == 0) std::cout << "largest relative parameter difference: " << difference << "\n";
    EXPECT_LE(difference, 1e-5)
        << (overlap ? "overlapped" : "not overlapped") << ", rank " << world().rank();
  }
}

}  // namespace
