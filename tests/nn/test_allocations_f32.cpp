// Steady state: a training step of a sigmoid MLP (forward, cross-entropy, penalty, backward,
// optimizer step, next batch) makes no heap allocation once the first steps have run, with
// no penalty, L2 and L1, and with SGD and Adam. Counts calls, not time. Skipped under
// AddressSanitizer, which replaces malloc itself. Counts xtgrad's allocations: those OpenBLAS
// makes inside gemm() are tallied apart (malloc_counter.hpp; docs/design.md, "The guarantee,
// precisely"); ctest also runs this file with OPENBLAS_CORETYPE=SkylakeX.
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>

#include "malloc_counter.hpp"  // defines malloc & co. for this test program
#include "xtgrad/core/defaults.hpp"  // test_models.hpp names xtgrad::Variable
#include "steady_state.hpp"
#include "test_models.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/batches.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/ops/ops.hpp"
#include "xtgrad/regularizers/spec.hpp"

namespace xtgrad {
namespace {

struct Case {
  const char* penalty;
  bool adam;
};
std::ostream& operator<<(std::ostream& out, const Case& c) {
  return out << c.penalty << (c.adam ? " with Adam" : " with SGD");
}

// Heap allocations made by steps warmup+1 .. warmup+measured of one training run.
std::uint64_t allocations_per_run(const Case& c, int warmup, int measured) {
  return xtgrad_test::sigmoid_net_step_allocations(c.penalty, c.adam, {30, 16, 200, 20, warmup, measured});
}

class SteadyState : public ::testing::TestWithParam<Case> {};

TEST_P(SteadyState, StepsAfterWarmUpMakeNoHeapAllocation) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  EXPECT_EQ(allocations_per_run(GetParam(), 15, 25), 0u) << "penalty " << GetParam().penalty;
}

INSTANTIATE_TEST_SUITE_P(PenaltiesAndOptimizers, SteadyState,
                         ::testing::Values(Case{"none", false}, Case{"l2(lambd=0.01)", false},
                                           Case{"l1(lambd=1e-4)", false}, Case{"l1(lambd=1e-4)", true}));

// A model written with plain ops instead of the fused ones: matmul, a broadcast bias add
// (whose gradient is reduced by sum_to), tanh, mean squared error, a sum over an axis,
// softmax and log-softmax.
TEST(SteadyStateUnfused, MatmulBiasTanhMseStepsMakeNoHeapAllocation) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  Rng rng(8);
  const Variable w1 = Variable::parameter(randn({12, 8}, rng, 0.0, 0.3), "w1");
  const Variable b1 = Variable::parameter(randn({8}, rng, 0.0, 0.1), "b1");
  const Variable w2 = Variable::parameter(randn({8, 3}, rng, 0.0, 0.3), "w2");
  const Variable x(randn({16, 12}, rng));
  const Variable y(randn({16, 3}, rng));
  nn::SGD sgd({{"w1", w1}, {"b1", b1}, {"w2", w2}}, 0.05);
  std::uint64_t before = 0;
  for (int step = 0; step < 30; ++step) {
    if (step == 10) {
      before = malloc_counter::g_allocs.load();
      malloc_counter::g_counting = true;
    }
    const Variable h = tanh(matmul(x, w1) + b1);
    const Variable z = matmul(h, w2);
    Variable loss = mse(z, y) + mean(sum(h, 1)) * 0.01 + mean(log_softmax(z, 1) * softmax(z, 0)) * 0.01;
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  malloc_counter::g_counting = false;
  EXPECT_EQ(malloc_counter::g_allocs.load() - before, 0u);
}

// Class-index labels (a std::vector<size_t> the caller refills): cross_entropy keeps them in
// a recycled buffer, not a copied vector.
TEST(SteadyStateLabels, CrossEntropyWithClassIndicesMakesNoHeapAllocation) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  Rng rng(9);
  const Variable w = Variable::parameter(randn({12, 5}, rng, 0.0, 0.3), "w");
  const Variable x(randn({16, 12}, rng));
  std::vector<std::size_t> labels(16);
  nn::SGD sgd({{"w", w}}, 0.05);
  std::uint64_t before = 0;
  for (int step = 0; step < 30; ++step) {
    if (step == 10) {
      before = malloc_counter::g_allocs.load();
      malloc_counter::g_counting = true;
    }
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = (i + std::size_t(step)) % 5;
    Variable loss = cross_entropy(matmul(x, w), labels);
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  malloc_counter::g_counting = false;
  EXPECT_EQ(malloc_counter::g_allocs.load() - before, 0u);
}

TEST(SteadyStateCounter, SeesAnAllocation) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  // The counter itself works: a fresh tensor the cache cannot serve is counted.
  const std::uint64_t before = malloc_counter::g_allocs.load();
  malloc_counter::g_counting = true;
  Tensor t = Tensor::from_shape({12345});
  malloc_counter::g_counting = false;
  EXPECT_GE(malloc_counter::g_allocs.load() - before, 1u);
  EXPECT_EQ(t.size(), 12345u);
}

}  // namespace
}  // namespace xtgrad
