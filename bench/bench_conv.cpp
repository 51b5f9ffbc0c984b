// conv2d microbenchmarks: forward, and forward + backward, at LeNet-5's shapes and in sweeps
// over channels and batch size, to show how the cost grows.
//
//   BM_conv2d_forward/N/C/O/HW/K/P          y = conv2d(x, W, b), x (N, C, HW, HW), W (O, C, K, K), padding P
//   BM_max_pool2d_forward_backward          2×2 max pooling of (64, 6, 28, 28) and its backward
//   BM_conv2d_forward_backward/N/C/O/HW/K/P/dx
//                                           the same plus backward: dW, db, and dx when dx = 1 (a first
//                                           layer's input is data and gets no dx)
//   BM_conv2d_threads/N/C/O/HW/K/P/dx/backward/threads
//                                           forward (backward = 0) or forward + backward at LeNet's and the
//                                           BN CNN's layers, with set_num_threads(threads) for the run
//   BM_max_pool2d_threads/N/C/HW/threads    2×2 max pooling forward + backward
//   BM_batch_norm_threads/N/C/HW/training/threads
//                                           batch_norm forward + backward (dx, dγ, dβ)
//
// The *_threads benchmarks register each shape at 1 and 2 threads one after the other;
// run them with --benchmark_enable_random_interleaving=true --benchmark_repetitions=N to
// interleave the thread counts in time (the machine's load drifts).
//
// GFLOPS counts the forward product, 2·N·O·OH·OW·C·K², once per forward and three times per
// forward + backward with dx (twice without): the im2col copies and bias sums are not counted.
// Real time, warm-up first; BLAS threads = $XTGRAD_BENCH_THREADS (default 1).

#include <benchmark/benchmark.h>

#include "bench_setup.hpp"

#include <xtgrad/core/core.hpp>
#include <xtgrad/ops/conv.hpp>
#include <xtgrad/ops/normalization.hpp>
#include <xtgrad/ops/reductions.hpp>

namespace {

using xtgrad::Tensor;
using xtgrad::Variable;

constexpr double kWarmUpSeconds = 0.2;

struct Shapes {
  std::size_t n, c, o, hw, k, pad;
  std::size_t out() const { return hw + 2 * pad - k + 1; }
  double flops() const { return 2.0 * double(n * o * out() * out() * c * k * k); }
};

Shapes shapes_of(const benchmark::State& state) {
  return {std::size_t(state.range(0)), std::size_t(state.range(1)), std::size_t(state.range(2)),
          std::size_t(state.range(3)), std::size_t(state.range(4)), std::size_t(state.range(5))};
}

Tensor random_tensor(const xtgrad::Shape& shape, std::uint64_t seed) {
  xtgrad::Rng rng(seed);
  return xtgrad::randn(shape, rng, 0.0, 0.1);
}

void BM_conv2d_forward(benchmark::State& state) {
  const Shapes s = shapes_of(state);
  const Variable x(random_tensor({s.n, s.c, s.hw, s.hw}, 1));
  const Variable w = Variable::parameter(random_tensor({s.o, s.c, s.k, s.k}, 2));
  const Variable b = Variable::parameter(random_tensor({s.o}, 3));
  xtgrad::Conv2dOptions options;
  options.padding = {s.pad, s.pad};
  for (auto _ : state) {
    Variable y = xtgrad::conv2d(x, w, b, options);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(s.flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_conv2d_forward_backward(benchmark::State& state) {
  const Shapes s = shapes_of(state);
  const bool dx = state.range(6) != 0;
  const Variable x(random_tensor({s.n, s.c, s.hw, s.hw}, 1), dx);
  Variable w = Variable::parameter(random_tensor({s.o, s.c, s.k, s.k}, 2));
  Variable b = Variable::parameter(random_tensor({s.o}, 3));
  const Tensor upstream = random_tensor({s.n, s.o, s.out(), s.out()}, 4);
  xtgrad::Conv2dOptions options;
  options.padding = {s.pad, s.pad};
  for (auto _ : state) {
    w.zero_grad();
    b.zero_grad();
    Variable y = xtgrad::conv2d(x, w, b, options);
    y.backward(upstream);
    benchmark::DoNotOptimize(w.grad().data());
  }
  state.counters["GFLOPS"] =
      benchmark::Counter(s.flops() * (dx ? 3 : 2) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// 2×2 max pooling, forward + backward, at LeNet's first pooling layer: x (64, 6, 28, 28).
void BM_max_pool2d_forward_backward(benchmark::State& state) {
  const Variable x(random_tensor({64, 6, 28, 28}, 1), true);
  const Tensor upstream = random_tensor({64, 6, 14, 14}, 2);
  for (auto _ : state) {
    Variable y = xtgrad::max_pool2d(x, xtgrad::Pool2dOptions{});
    y.backward(upstream);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetItemsProcessed(state.iterations() * 64 * 6 * 28 * 28);
}
BENCHMARK(BM_max_pool2d_forward_backward)->UseRealTime()->MinWarmUpTime(kWarmUpSeconds);

// LeNet-5 on MNIST, batch 64: conv1 1→6 5×5 on 28×28 with padding 2, conv2 6→16 5×5 on 14×14.
BENCHMARK(BM_conv2d_forward)->Args({64, 1, 6, 28, 5, 2})->Args({64, 6, 16, 14, 5, 0})->UseRealTime()->MinWarmUpTime(kWarmUpSeconds);
BENCHMARK(BM_conv2d_forward_backward)
    ->Args({64, 1, 6, 28, 5, 2, 0})
    ->Args({64, 6, 16, 14, 5, 0, 1})
    ->UseRealTime()
    ->MinWarmUpTime(kWarmUpSeconds);
// Channels C = O ∈ {8, 16, 32, 64}, 3×3 on 16×16 with padding 1, batch 32.
BENCHMARK(BM_conv2d_forward_backward)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (std::int64_t c : {8, 16, 32, 64}) b->Args({32, c, c, 16, 3, 1, 1});
    })
    ->UseRealTime()
    ->MinWarmUpTime(kWarmUpSeconds);
// Batch N ∈ {1, 8, 32, 128} at LeNet's conv2.
BENCHMARK(BM_conv2d_forward_backward)
    ->ArgsProduct({{1, 8, 32, 128}, {6}, {16}, {14}, {5}, {0}, {1}})
    ->UseRealTime()
    ->MinWarmUpTime(kWarmUpSeconds);

// ---- the direct kernel against im2col + gemm, one thread: the measurements behind conv2d's choice
// (kDirectMaxTaps). Args N, C, O, HW, K, P, backward (0: forward only; 1: + dW, db; 2: + dx too),
// kernel (0 im2col, 1 direct), threads.

void BM_conv2d_kernels(benchmark::State& state) {
  const Shapes s = shapes_of(state);
  const int backward = int(state.range(6));
  const xtgrad::NumThreadsGuard threads(int(state.range(8)));
  const Variable x(random_tensor({s.n, s.c, s.hw, s.hw}, 1), backward == 2);
  Variable w = Variable::parameter(random_tensor({s.o, s.c, s.k, s.k}, 2));
  Variable b = Variable::parameter(random_tensor({s.o}, 3));
  const Tensor upstream = random_tensor({s.n, s.o, s.out(), s.out()}, 4);
  xtgrad::Conv2dOptions options;
  options.padding = {s.pad, s.pad};
  options.kernel = state.range(7) != 0 ? xtgrad::Conv2dKernel::direct : xtgrad::Conv2dKernel::im2col;
  for (auto _ : state) {
    w.zero_grad();
    b.zero_grad();
    Variable y = xtgrad::conv2d(x, w, b, options);
    if (backward) y.backward(upstream);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(s.flops() * (1 + backward) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
// first layers: LeNet's 1→6 5×5 (batch 64), the BN CNN's 1→32 3×3 (batch 128); then C = 3 and 4
// with 3×3 (K = 27, 36) and 1→64 3×3, to place the rule's bound
BENCHMARK(BM_conv2d_kernels)
    ->ArgsProduct({{64}, {1}, {6}, {28}, {5}, {2}, {0, 1}, {0, 1}, {1, 2}})
    ->ArgsProduct({{128}, {1}, {32}, {28}, {3}, {1}, {0, 1}, {0, 1}, {1, 2}})
    ->ArgsProduct({{32}, {1}, {64}, {28}, {3}, {1}, {0, 1}, {0, 1}, {1}})
    ->ArgsProduct({{32}, {3, 4}, {32}, {28}, {3}, {1}, {0, 2}, {0, 1}, {1}})
    ->UseRealTime()
    ->MinWarmUpTime(kWarmUpSeconds);

// ---- thread scaling: the op at set_num_threads(last argument) -------------------------------

void BM_conv2d_threads(benchmark::State& state) {
  const Shapes s = shapes_of(state);
  const bool dx = state.range(6) != 0, backward = state.range(7) != 0;
  const xtgrad::NumThreadsGuard threads(int(state.range(8)));
  const Variable x(random_tensor({s.n, s.c, s.hw, s.hw}, 1), dx);
  Variable w = Variable::parameter(random_tensor({s.o, s.c, s.k, s.k}, 2));
  Variable b = Variable::parameter(random_tensor({s.o}, 3));
  const Tensor upstream = random_tensor({s.n, s.o, s.out(), s.out()}, 4);
  xtgrad::Conv2dOptions options;
  options.padding = {s.pad, s.pad};
  for (auto _ : state) {
    if (!backward) {
      const xtgrad::NoGrad no_grad;
      Variable y = xtgrad::conv2d(x, w, b, options);
      benchmark::DoNotOptimize(y.value().data());
      continue;
    }
    w.zero_grad();
    b.zero_grad();
    Variable y = xtgrad::conv2d(x, w, b, options);
    y.backward(upstream);
    benchmark::DoNotOptimize(w.grad().data());
  }
  const double products = backward ? (dx ? 3 : 2) : 1;
  state.counters["GFLOPS"] = benchmark::Counter(s.flops() * products * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
// LeNet (batch 64): conv1 1→6 5×5 pad 2 on 28×28, conv2 6→16 5×5 on 14×14; the BN CNN (batch
// 128): 1→32 3×3 pad 1 on 28×28, 32→64 3×3 pad 1 on 14×14. First layers get no dx.
BENCHMARK(BM_conv2d_threads)
    ->Apply([](benchmark::internal::Benchmark* b) {
      const std::vector<std::vector<std::int64_t>> layers = {
          {64, 1, 6, 28, 5, 2, 0}, {64, 6, 16, 14, 5, 0, 1}, {128, 1, 32, 28, 3, 1, 0}, {128, 32, 64, 14, 3, 1, 1}};
      for (const auto& layer : layers) {
        for (std::int64_t backward : {0, 1}) {
          for (std::int64_t threads : {1, 2}) {
            std::vector<std::int64_t> args = layer;
            args.push_back(backward);
            args.push_back(threads);
            b->Args(args);
          }
        }
      }
    })
    ->UseRealTime()
    ->MinWarmUpTime(kWarmUpSeconds);

void BM_max_pool2d_threads(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0)), c = std::size_t(state.range(1)), hw = std::size_t(state.range(2));
  const xtgrad::NumThreadsGuard threads(int(state.range(3)));
  const Variable x(random_tensor({n, c, hw, hw}, 1), true);
  const Tensor upstream = random_tensor({n, c, hw / 2, hw / 2}, 2);
  for (auto _ : state) {
    Variable y = xtgrad::max_pool2d(x, xtgrad::Pool2dOptions{});
    y.backward(upstream);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(n * c * hw * hw));
}
// The BN CNN's two pooling layers (batch 128).
BENCHMARK(BM_max_pool2d_threads)
    ->ArgsProduct({{128}, {32}, {28}, {1, 2}})
    ->ArgsProduct({{128}, {64}, {14}, {1, 2}})
    ->UseRealTime()
    ->MinWarmUpTime(kWarmUpSeconds);

void BM_batch_norm_threads(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0)), c = std::size_t(state.range(1)), hw = std::size_t(state.range(2));
  const bool training = state.range(3) != 0;
  const xtgrad::NumThreadsGuard threads(int(state.range(4)));
  const Variable x(random_tensor({n, c, hw, hw}, 1), true);
  Tensor gamma0 = random_tensor({c}, 2);
  for (float& v : gamma0) v += 1.0f;
  Variable gamma = Variable::parameter(gamma0);
  Variable beta = Variable::parameter(random_tensor({c}, 3));
  Tensor running_mean = random_tensor({c}, 4), running_var = random_tensor({c}, 5);
  running_var.fill(1.0f);
  const Tensor upstream = random_tensor({n, c, hw, hw}, 6);
  for (auto _ : state) {
    gamma.zero_grad();
    beta.zero_grad();
    Variable y = xtgrad::batch_norm(x, gamma, beta, running_mean, running_var, training);
    y.backward(upstream);
    benchmark::DoNotOptimize(gamma.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(n * c * hw * hw));
}
// The BN CNN's two batch_norm layers (batch 128), training and eval.
BENCHMARK(BM_batch_norm_threads)
    ->ArgsProduct({{128}, {32}, {28}, {1, 0}, {1, 2}})
    ->ArgsProduct({{128}, {64}, {14}, {1, 0}, {1, 2}})
    ->UseRealTime()
    ->MinWarmUpTime(kWarmUpSeconds);

}  // namespace

int main(int argc, char** argv) { return xtgrad_bench::run_benchmarks(argc, argv); }
