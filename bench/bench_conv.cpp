// conv2d microbenchmarks: forward, and forward + backward, at LeNet-5's shapes and in sweeps
// over channels and batch size, to show how the cost grows.
//
//   BM_conv2d_forward/N/C/O/HW/K/P          y = conv2d(x, W, b), x (N, C, HW, HW), W (O, C, K, K), padding P
//   BM_max_pool2d_forward_backward          2×2 max pooling of (64, 6, 28, 28) and its backward
//   BM_conv2d_forward_backward/N/C/O/HW/K/P/dx
//                                           the same plus backward: dW, db, and dx when dx = 1 (a first
//                                           layer's input is data and gets no dx)
//
// GFLOPS counts the forward product, 2·N·O·OH·OW·C·K², once per forward and three times per
// forward + backward with dx (twice without): the im2col copies and bias sums are not counted.
// Real time, warm-up first; BLAS threads = $XTGRAD_BENCH_THREADS (default 1).

#include <benchmark/benchmark.h>

#include "bench_setup.hpp"

#include <xtgrad/core/core.hpp>
#include <xtgrad/ops/conv.hpp>
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

}  // namespace

int main(int argc, char** argv) { return xtgrad_bench::run_benchmarks(argc, argv); }
