// The steady-state training loop the allocation tests count: a SigmoidNet (test_models.hpp)
// trained with cross-entropy plus a penalty, SGD or Adam, batches from a BatchIterator refilled
// in place. Include after malloc_counter.hpp, in a program that defines it.
#pragma once

#include <cstdint>
#include <memory>

#include "malloc_counter.hpp"
#include "test_models.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/batches.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/ops/ops.hpp"
#include "xtgrad/regularizers/spec.hpp"

namespace xtgrad_test {

struct SteadyStateRun {
  std::size_t inputs, hidden, rows, batch;  // SigmoidNet(inputs, hidden, 10); `rows` random samples
  int warmup, measured;                     // steps run before counting, steps counted
};

// Heap allocations (outside BLAS) made by steps warmup+1 .. warmup+measured.
inline std::uint64_t sigmoid_net_step_allocations(const char* penalty, bool adam, const SteadyStateRun& run) {
  using namespace xtgrad;
  Rng rng(5);
  SigmoidNet model(run.inputs, run.hidden, 10, rng);
  const NamedParameters params = model.named_parameters();
  std::unique_ptr<nn::Optimizer> optimizer;
  if (adam) {
    optimizer = std::make_unique<nn::Adam>(params, 1e-3);
  } else {
    optimizer = std::make_unique<nn::SGD>(params, 0.1);
  }
  const auto reg = make_regularizer(penalty);
  const Tensor inputs = rand_uniform({run.rows, run.inputs}, rng, -1.0, 1.0);
  Tensor targets = Tensor::from_shape({run.rows, 10});
  targets.fill(0);
  for (std::size_t i = 0; i < run.rows; ++i) targets(i, i % 10) = 1;
  nn::BatchIterator batches(inputs, targets, run.batch, /*shuffle=*/true, rng);
  Variable x{Tensor{}}, y{Tensor{}};
  double sink = 0;
  std::uint64_t before = 0;
  for (int step = 0; step < run.warmup + run.measured; ++step) {
    if (step == run.warmup) {
      before = malloc_counter::g_allocs.load();
      malloc_counter::g_counting = true;
    }
    if (!batches.next(x.mutable_value(), y.mutable_value())) {
      batches.start_epoch();
      batches.next(x.mutable_value(), y.mutable_value());
    }
    Variable loss = cross_entropy(model(x), y) + reg->penalty(params);
    sink += loss.item();
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
  }
  malloc_counter::g_counting = false;
  if (!(sink == sink)) return ~std::uint64_t(0);  // a NaN loss: fail loudly
  return malloc_counter::g_allocs.load() - before;
}

}  // namespace xtgrad_test
