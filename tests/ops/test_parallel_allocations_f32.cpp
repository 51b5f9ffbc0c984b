// Steady state on every core: the training steps of tests/nn/test_allocations_f32.cpp, at sizes
// above the grains (so the elementwise ops, softmax rows, reductions, sum_to, the penalties and
// the optimizer updates split across threads) and at 3 threads, make no heap allocation once
// the first steps have run: chunk bodies allocate nothing and the pool allocates nothing per
// job. Counts calls on every thread, not time. Skipped under AddressSanitizer.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "malloc_counter.hpp"  // defines malloc & co. for this test program
#include "xtgrad/core/defaults.hpp"  // test_models.hpp names xtgrad::Variable
#include "steady_state.hpp"
#include "test_models.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/nn/batches.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/ops/ops.hpp"
#include "xtgrad/regularizers/spec.hpp"

namespace xtgrad {
namespace {

// The seed model's shapes: 784 → 200 → 10, batches of 64.
std::uint64_t seed_model_allocations(const char* penalty, bool adam) {
  return xtgrad_test::sigmoid_net_step_allocations(penalty, adam, {784, 200, 256, 64, 8, 12});
}

TEST(ParallelSteadyState, SeedModelStepsMakeNoHeapAllocation) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  const NumThreadsGuard threads(3);
  for (const char* penalty : {"none", "l2(lambd=0.01)", "l1(lambd=1e-4)"}) {
    for (bool adam : {false, true}) {
      EXPECT_EQ(seed_model_allocations(penalty, adam), 0u) << penalty << (adam ? " with Adam" : " with SGD");
    }
  }
}

// Plain ops: matmul, a broadcast bias add (sum_to by column blocks), tanh, mse, a sum over an
// axis, softmax over either axis and log_softmax, RMSProp with momentum.
TEST(ParallelSteadyState, UnfusedStepsMakeNoHeapAllocation) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  const NumThreadsGuard threads(3);
  Rng rng(8);
  const Variable w1 = Variable::parameter(randn({300, 256}, rng, 0.0, 0.05), "w1");
  const Variable b1 = Variable::parameter(randn({256}, rng, 0.0, 0.1), "b1");
  const Variable w2 = Variable::parameter(randn({256, 256}, rng, 0.0, 0.05), "w2");
  const Variable x(randn({256, 300}, rng));
  const Variable y(randn({256, 256}, rng));
  nn::RMSProp opt({{"w1", w1}, {"b1", b1}, {"w2", w2}}, 1e-3, 0.99, 1e-8, 0.9);
  std::uint64_t before = 0;
  for (int step = 0; step < 20; ++step) {
    if (step == 8) {
      before = malloc_counter::g_allocs.load();
      malloc_counter::g_counting = true;
    }
    const Variable h = tanh(matmul(x, w1) + b1);
    const Variable z = matmul(h, w2);
    Variable loss = mse(z, y) + mean(sum(h, 1)) * 0.01 + mean(log_softmax(z, 1) * softmax(z, 0)) * 0.01 +
                    mean(exp(z * 0.1)) * 0.01;
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  malloc_counter::g_counting = false;
  EXPECT_EQ(malloc_counter::g_allocs.load() - before, 0u);
}

}  // namespace
}  // namespace xtgrad
