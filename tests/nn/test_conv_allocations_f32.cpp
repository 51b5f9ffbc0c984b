// Steady state of a small convolutional net (conv2d with padding, ReLU, max pooling, a
// grouped strided conv2d, average pooling, dropout, flatten, linear, cross-entropy, Adam):
// after warm-up a training step makes no heap allocation of xtgrad's, as the MLP's does
// (test_allocations_f32.cpp). Counts calls, not time; skipped under AddressSanitizer.
// malloc_counter::g_allocs leaves out what OpenBLAS allocates inside gemm() (its AVX-512
// small-matrix kernels do on some shapes: docs/design.md, "The guarantee, precisely"); ctest
// also runs this file with OPENBLAS_CORETYPE=SkylakeX (test_conv_allocations_f32_skylakex).
#include <gtest/gtest.h>

#include <cstdio>

#include "malloc_counter.hpp"  // defines malloc & co. for this test program
#include "xtgrad/core/core.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad {
namespace {

TEST(ConvSteadyState, StepsAfterWarmUpMakeNoHeapAllocation) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  Rng rng(3);
  nn::Conv2dOptions same;
  same.padding = {1, 1};
  nn::Conv2dOptions grouped;
  grouped.groups = 2;
  grouped.stride = {2, 2};
  nn::Sequential net;
  net.add(nn::Conv2d(1, 4, 3, rng, same))
      .add(nn::ReLU())
      .add(nn::MaxPool2d(2))                   // (n, 4, 6, 6)
      .add(nn::Conv2d(4, 8, 3, rng, grouped))  // (n, 8, 2, 2)
      .add(nn::AvgPool2d(Size2{2, 2}, Size2{1, 1}))
      .add(nn::Dropout(0.25, 4))
      .add(nn::Flatten())
      .add(nn::Linear(8, 3, rng));
  nn::Adam adam(net.named_parameters(), 1e-3);
  const Tensor inputs = randn({60, 1, 12, 12}, rng);
  Tensor targets = Tensor::from_shape({60, 3});
  targets.fill(0);
  for (std::size_t i = 0; i < 60; ++i) targets(i, i % 3) = 1;
  nn::BatchIterator batches(inputs, targets, 12, /*shuffle=*/true, rng);
  Variable x{Tensor{}}, y{Tensor{}};
  double sink = 0;
  std::uint64_t before = 0;
  for (int step = 0; step < 40; ++step) {
    if (step == 15) {
      before = malloc_counter::g_allocs.load();
      malloc_counter::g_counting = true;
    }
    if (!batches.next(x.mutable_value(), y.mutable_value())) {
      batches.start_epoch();
      batches.next(x.mutable_value(), y.mutable_value());
    }
    Variable loss = cross_entropy(net(x), y);
    sink += loss.item();
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  malloc_counter::g_counting = false;
  EXPECT_TRUE(sink == sink);
  EXPECT_EQ(malloc_counter::g_allocs.load() - before, 0u);
}

}  // namespace
}  // namespace xtgrad

namespace xtgrad {
namespace {

// nn::fit itself, with class-index targets and rank-4 inputs: the steps in the middle of an
// epoch (counted from one after_step to a later one) allocate nothing either.
TEST(ConvSteadyState, FitWithIndexTargetsMakesNoHeapAllocationBetweenSteps) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  Rng rng(5);
  nn::Conv2dOptions same;
  same.padding = {1, 1};
  nn::Sequential net;
  net.add(nn::Conv2d(1, 4, 3, rng, same)).add(nn::ReLU()).add(nn::MaxPool2d(2)).add(nn::Flatten()).add(nn::Linear(4 * 4 * 4, 3, rng));
  nn::Dataset data{randn({200, 1, 8, 8}, rng), Tensor::from_shape({200})};
  for (std::size_t i = 0; i < 200; ++i) data.targets(i) = Scalar(i % 3);
  nn::SGD sgd(net.named_parameters(), 0.05, 0.9);
  nn::FitOptions options;
  options.epochs = 2;
  options.batch_size = 10;  // 20 steps per epoch
  options.progress_bar = false;
  std::size_t step = 0;
  std::uint64_t before = 0, counted = 0, blas_before = 0, blas = 0;
  options.after_step = [&] {
    ++step;
    if (step == 25) {  // epoch 2, step 5
      before = malloc_counter::g_allocs.load();
      blas_before = malloc_counter::g_blas_allocs.load();
      malloc_counter::g_counting = true;
    } else if (step == 38) {
      malloc_counter::g_counting = false;
      counted = malloc_counter::g_allocs.load() - before;
      blas = malloc_counter::g_blas_allocs.load() - blas_before;
    }
  };
  nn::fit(net, sgd, data, nullptr, rng, options);
  EXPECT_EQ(step, 40u);
  EXPECT_EQ(counted, 0u);
  std::printf("OpenBLAS core %s: %llu allocations inside BLAS over 13 steps (not xtgrad's)\n",
              blas_core_name().c_str(), static_cast<unsigned long long>(blas));
}

}  // namespace
}  // namespace xtgrad

namespace xtgrad {
namespace {

// The parallel paths (issue 21) at 2 threads: conv2d split into one run of samples per thread,
// batch_norm's per-channel parts and planes, pooling's planes. Each layer is large enough to
// take them (conv1: 16·8·784·9 multiply-adds, two tasks; batch_norm: 100,352 values; pooling:
// 128 planes of 784). Their per-task scratch comes from the calling thread's buffer cache, so a
// step still makes no heap allocation.
TEST(ConvSteadyState, ParallelStepsMakeNoHeapAllocation) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  const NumThreadsGuard two(2);
  Rng rng(9);
  nn::Conv2dOptions same;
  same.padding = {1, 1};
  nn::Sequential net;
  net.add(nn::Conv2d(1, 8, 3, rng, same))
      .add(nn::BatchNorm2d(8))
      .add(nn::ReLU())
      .add(nn::MaxPool2d(2))                    // (16, 8, 14, 14)
      .add(nn::Conv2d(8, 16, 3, rng, same))    // two tasks of 8 samples
      .add(nn::BatchNorm2d(16))
      .add(nn::AvgPool2d(Size2{2, 2}, Size2{2, 2}))  // (16, 16, 7, 7)
      .add(nn::Flatten())
      .add(nn::Linear(16 * 7 * 7, 3, rng));
  nn::SGD sgd(net.named_parameters(), 0.01, 0.9);
  const Tensor x = randn({16, 1, 28, 28}, rng);
  Tensor targets = Tensor::from_shape({16, 3});
  targets.fill(0);
  for (std::size_t i = 0; i < 16; ++i) targets(i, i % 3) = 1;
  const Variable input(x), target(targets);
  double sink = 0;
  std::uint64_t before = 0;
  for (int step = 0; step < 12; ++step) {
    if (step == 6) {
      before = malloc_counter::g_allocs.load();
      malloc_counter::g_counting = true;
    }
    Variable loss = cross_entropy(net(input), target);
    sink += loss.item();
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  malloc_counter::g_counting = false;
  EXPECT_TRUE(sink == sink);
  EXPECT_EQ(malloc_counter::g_allocs.load() - before, 0u);
}

}  // namespace
}  // namespace xtgrad
