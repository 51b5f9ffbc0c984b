// Op microbenchmarks at the seed model's training shapes (batch 64, 784 → 200 → 10).
//
//   BM_sgemm/*          xtgrad::gemm (cblas_sgemm with transpose flags) into preallocated
//                       buffers: the machine's GEMM rate, the bound compare.sh divides by.
//   BM_matmul_*         the differentiable op: forward, backward for dW only (the training
//                       case: the data batch never gets a dX) and backward for dX only.
//   BM_linear_*         the fused x·W + b node, forward and forward+backward (dW, db).
//   BM_sigmoid_*        64x200, forward (graph recorded) and backward.
//   BM_cross_entropy_*  fused softmax cross-entropy on 64x10 logits, one-hot targets.
//   BM_penalty_*        squared_l2 and l1 of W1 (784x200), forward and backward: the extra
//                       work of the l2 / l1 runs.
//   BM_gelu_*           exact GELU on (2048, 256), the op and the scalar std::erf loop it replaced.
//   BM_threads_*/N      ops at N threads (xtgrad::NumThreadsGuard; issue 21): sigmoid on the seed's
//                       64x200 (below the grains: must not get slower at 2), exp and add on 1M
//                       elements, sum over all of 1M, softmax on 128x10 and 2048x512, an Adam
//                       step on 784x200. Compare /1 with /2 in one run, e.g.
//                       --benchmark_filter=threads --benchmark_repetitions=5
//                       --benchmark_enable_random_interleaving=true.
//
// GEMM benchmarks report a GFLOPS counter (2·m·n·k per product, 10⁹ FLOP per second of real
// time). Every benchmark warms up first (the first one in a process runs cold: OpenBLAS
// buffers and fresh pages made the first variant of a sweep 30-40% slower) and uses real time.
//
// Environment: BLAS threads = $XTGRAD_BENCH_THREADS (default 1). Like the app, main() raises
// malloc's trim/mmap thresholds so freed buffers are reused instead of returned to the
// kernel; set XTGRAD_BENCH_DEFAULT_MALLOC=1 to measure glibc's defaults instead.

#include <cmath>
#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>

#include "bench_setup.hpp"

#include <xtgrad/core/core.hpp>
#include <xtgrad/core/gemm.hpp>
#include <xtgrad/core/parallel.hpp>
#include <xtgrad/nn/optimizers.hpp>
#include <xtgrad/ops/activations.hpp>
#include <xtgrad/ops/activations_extra.hpp>
#include <xtgrad/ops/elementwise.hpp>
#include <xtgrad/ops/elementwise_math.hpp>
#include <xtgrad/ops/linalg.hpp>
#include <xtgrad/ops/losses.hpp>
#include <xtgrad/ops/norms.hpp>
#include <xtgrad/ops/reductions.hpp>

namespace {

using xtgrad::Scalar;
using xtgrad::Tensor;
using xtgrad::Variable;

constexpr std::size_t kBatch = 64, kIn = 784, kHidden = 200, kClasses = 10;
constexpr double kWarmUpSeconds = 0.2;

Tensor random_tensor(const xtgrad::Shape& shape, std::uint64_t seed, double stddev = 1.0) {
  xtgrad::Rng rng(seed);
  return xtgrad::randn(shape, rng, 0.0, stddev);
}

Tensor one_hot_rows(std::size_t n, std::size_t c, std::uint64_t seed) {
  xtgrad::Rng rng(seed);
  Tensor y = Tensor::from_shape({n, c});
  y.fill(Scalar(0));
  for (std::size_t i = 0; i < n; ++i) y.data()[i * c + rng() % c] = Scalar(1);
  return y;
}

void set_gflops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOPS"] = benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

double gemm_flops(std::size_t m, std::size_t n, std::size_t k) { return 2.0 * double(m) * double(n) * double(k); }

// ---- raw GEMM: the machine's rate at the training shapes --------------------------------------

struct GemmShape {
  std::size_t m, n, k;
  bool trans_a, trans_b;
};

// C (m, n) = op(A) · op(B) with A stored (m, k) or, transposed, (k, m); likewise B.
void BM_sgemm(benchmark::State& state, GemmShape s) {
  const Tensor a = random_tensor(s.trans_a ? xtgrad::Shape{s.k, s.m} : xtgrad::Shape{s.m, s.k}, 1);
  const Tensor b = random_tensor(s.trans_b ? xtgrad::Shape{s.n, s.k} : xtgrad::Shape{s.k, s.n}, 2);
  Tensor c = Tensor::from_shape({s.m, s.n});
  for (auto _ : state) {
    xtgrad::gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1, a.data(), b.data(), 0, c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, gemm_flops(s.m, s.n, s.k));
}
#define XTGRAD_GEMM_BENCH(name, ...) \
  BENCHMARK_CAPTURE(BM_sgemm, name, __VA_ARGS__)->UseRealTime()->MinWarmUpTime(kWarmUpSeconds)
// forward of layer 1: x (64, 784) · W1 (784, 200)
XTGRAD_GEMM_BENCH(fwd1_64x784x200, GemmShape{kBatch, kHidden, kIn, false, false});
// dW1 = xᵀ · g: x stored (64, 784), g (64, 200) → (784, 200)
XTGRAD_GEMM_BENCH(dW1_xT_g, GemmShape{kIn, kHidden, kBatch, true, false});
// dX1 = g · W1ᵀ: g (64, 200), W1 stored (784, 200) → (64, 784) (training skips it: no dX for data)
XTGRAD_GEMM_BENCH(dX1_g_WT, GemmShape{kBatch, kIn, kHidden, false, true});
// layer 2: h (64, 200) · W2 (200, 10), dW2 = hᵀ·g (200, 10), dH = g · W2ᵀ (64, 200)
XTGRAD_GEMM_BENCH(fwd2_64x200x10, GemmShape{kBatch, kClasses, kHidden, false, false});
XTGRAD_GEMM_BENCH(dW2_hT_g, GemmShape{kHidden, kClasses, kBatch, true, false});
XTGRAD_GEMM_BENCH(dH_g_W2T, GemmShape{kBatch, kHidden, kClasses, false, true});

// ---- matmul, the differentiable op -------------------------------------------------------

// Forward with the graph recorded (W requires grad), as in training.
void BM_matmul_forward(benchmark::State& state) {
  const Variable x(random_tensor({kBatch, kIn}, 1));
  const Variable w = Variable::parameter(random_tensor({kIn, kHidden}, 2, 0.01), "W");
  for (auto _ : state) {
    Variable y = xtgrad::matmul(x, w);
    benchmark::DoNotOptimize(y.value().data());
  }
  set_gflops(state, gemm_flops(kBatch, kHidden, kIn));
}

// Backward of y = x·W for an upstream g, only through the parameter that requires grad: the
// graph is built once (retain_graph) and each iteration forgets the grad and runs backward,
// i.e. the engine, the gemm, the new gradient buffer and its accumulation.
void matmul_backward(benchmark::State& state, bool x_requires_grad) {
  const Variable x(random_tensor({kBatch, kIn}, 1), x_requires_grad);
  const Variable w(random_tensor({kIn, kHidden}, 2, 0.01), !x_requires_grad);
  const Tensor g = random_tensor({kBatch, kHidden}, 3);
  const Variable y = xtgrad::matmul(x, w);
  Variable target = x_requires_grad ? x : w;
  for (auto _ : state) {
    target.zero_grad();
    y.backward(g, {/*retain_graph=*/true});
    benchmark::DoNotOptimize(target.grad().data());
  }
  // dW = xᵀ·g is (784, 200) with k = 64; dX = g·Wᵀ is (64, 784) with k = 200: same FLOPs.
  set_gflops(state, gemm_flops(kBatch, kHidden, kIn));
}
void BM_matmul_backward_dW(benchmark::State& state) { matmul_backward(state, false); }
void BM_matmul_backward_dX(benchmark::State& state) { matmul_backward(state, true); }

// ---- linear: x·W + b in one node ----------------------------------------------------------

void BM_linear_forward(benchmark::State& state) {
  const Variable x(random_tensor({kBatch, kIn}, 1));
  const Variable w = Variable::parameter(random_tensor({kIn, kHidden}, 2, 0.01), "W");
  const Variable b = Variable::parameter(random_tensor({kHidden}, 3, 0.01), "b");
  for (auto _ : state) {
    Variable y = xtgrad::linear(x, w, b);
    benchmark::DoNotOptimize(y.value().data());
  }
  set_gflops(state, gemm_flops(kBatch, kHidden, kIn));
}

// Forward and backward with the data batch as a constant: two GEMMs (y and dW) and db.
void BM_linear_forward_backward(benchmark::State& state) {
  const Variable x(random_tensor({kBatch, kIn}, 1));
  Variable w = Variable::parameter(random_tensor({kIn, kHidden}, 2, 0.01), "W");
  Variable b = Variable::parameter(random_tensor({kHidden}, 3, 0.01), "b");
  const Tensor g = random_tensor({kBatch, kHidden}, 4);
  for (auto _ : state) {
    w.zero_grad();
    b.zero_grad();
    Variable y = xtgrad::linear(x, w, b);
    y.backward(g);
    benchmark::DoNotOptimize(w.grad().data());
  }
  set_gflops(state, 2 * gemm_flops(kBatch, kHidden, kIn));
}

// ---- sigmoid on (64, 200) -------------------------------------------------------------------

void BM_sigmoid_forward(benchmark::State& state) {
  const Variable x(random_tensor({kBatch, kHidden}, 1, 3.0), /*requires_grad=*/true);
  for (auto _ : state) {
    Variable y = xtgrad::sigmoid(x);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(kBatch * kHidden));
}

void BM_sigmoid_backward(benchmark::State& state) {
  Variable x(random_tensor({kBatch, kHidden}, 1, 3.0), /*requires_grad=*/true);
  const Tensor g = random_tensor({kBatch, kHidden}, 2);
  const Variable y = xtgrad::sigmoid(x);
  for (auto _ : state) {
    x.zero_grad();
    y.backward(g, {/*retain_graph=*/true});
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(kBatch * kHidden));
}

// ---- fused cross-entropy on (64, 10) ----------------------------------------------------------

void BM_cross_entropy_forward(benchmark::State& state) {
  const Variable z(random_tensor({kBatch, kClasses}, 1, 2.0), /*requires_grad=*/true);
  const Variable y(one_hot_rows(kBatch, kClasses, 2));
  for (auto _ : state) {
    Variable loss = xtgrad::cross_entropy(z, y);
    benchmark::DoNotOptimize(loss.value().data());
  }
}

void BM_cross_entropy_forward_backward(benchmark::State& state) {
  Variable z(random_tensor({kBatch, kClasses}, 1, 2.0), /*requires_grad=*/true);
  const Variable y(one_hot_rows(kBatch, kClasses, 2));
  for (auto _ : state) {
    z.zero_grad();
    Variable loss = xtgrad::cross_entropy(z, y);
    loss.backward();
    benchmark::DoNotOptimize(z.grad().data());
  }
}

// ---- penalties on W1 (784, 200): the extra work of the l2 / l1 runs -------------------------

template <Variable (*Penalty)(const Variable&)>
void BM_penalty_forward(benchmark::State& state) {
  const Variable w = Variable::parameter(random_tensor({kIn, kHidden}, 1, 0.01), "W");
  for (auto _ : state) {
    Variable p = Penalty(w);
    benchmark::DoNotOptimize(p.value().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(kIn * kHidden));
}

// Backward into a gradient that already holds the data loss's contribution (as in training:
// the penalty's share is added to dW1 with +=).
template <Variable (*Penalty)(const Variable&)>
void BM_penalty_backward(benchmark::State& state) {
  Variable w = Variable::parameter(random_tensor({kIn, kHidden}, 1, 0.01), "W");
  const Variable p = Penalty(w);
  p.backward(xtgrad::BackwardOptions{/*retain_graph=*/true});
  for (auto _ : state) {
    p.backward(xtgrad::BackwardOptions{/*retain_graph=*/true});
    benchmark::DoNotOptimize(w.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(kIn * kHidden));
}
BENCHMARK_TEMPLATE(BM_penalty_forward, xtgrad::squared_l2)->UseRealTime()->MinWarmUpTime(kWarmUpSeconds);
BENCHMARK_TEMPLATE(BM_penalty_backward, xtgrad::squared_l2)->UseRealTime()->MinWarmUpTime(kWarmUpSeconds);
BENCHMARK_TEMPLATE(BM_penalty_forward, xtgrad::l1)->UseRealTime()->MinWarmUpTime(kWarmUpSeconds);
BENCHMARK_TEMPLATE(BM_penalty_backward, xtgrad::l1)->UseRealTime()->MinWarmUpTime(kWarmUpSeconds);

// ---- backward of the elementwise ops and activations on (64, 200) (fast path, no create_graph) ----

// The graph of op(x) is built once (retain_graph); each iteration runs its backward into x.grad.
template <class Op>
void elementwise_backward(benchmark::State& state, Op op) {
  Variable x(random_tensor({kBatch, kHidden}, 1, 3.0), /*requires_grad=*/true);
  const Variable other(random_tensor({kBatch, kHidden}, 5, 3.0));
  const Tensor g = random_tensor({kBatch, kHidden}, 2);
  const Variable y = op(x, other);
  for (auto _ : state) {
    x.zero_grad();
    y.backward(g, {/*retain_graph=*/true});
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(kBatch * kHidden));
}
#define XTGRAD_EW_BENCH(name, expr)                                                                  \
  BENCHMARK_CAPTURE(elementwise_backward, name, [](const Variable& x, [[maybe_unused]] const Variable& o) { return expr; }) \
      ->UseRealTime()                                                                                 \
      ->MinWarmUpTime(kWarmUpSeconds)
XTGRAD_EW_BENCH(clamp, xtgrad::clamp(x, -1.0, 1.0));
XTGRAD_EW_BENCH(maximum, xtgrad::maximum(x, o));
XTGRAD_EW_BENCH(log1p, xtgrad::log1p(xtgrad::abs(x)));
XTGRAD_EW_BENCH(sin, xtgrad::sin(x));
XTGRAD_EW_BENCH(softplus, xtgrad::softplus(x));
XTGRAD_EW_BENCH(elu, xtgrad::elu(x));
XTGRAD_EW_BENCH(silu, xtgrad::silu(x));
XTGRAD_EW_BENCH(gelu, xtgrad::gelu(x));
XTGRAD_EW_BENCH(gelu_tanh, xtgrad::gelu(x, xtgrad::GeluApproximation::tanh));

// ---- ops at 1 or 2 threads (the argument) -----------------------------------------------------

constexpr std::size_t kMillion = 1 << 20;

// Forward only, graph recorded (x requires grad), as in training.
template <class Op>
void threads_forward(benchmark::State& state, xtgrad::Shape shape, Op op) {
  const xtgrad::NumThreadsGuard threads(int(state.range(0)));
  const Variable x(random_tensor(shape, 1, 2.0), /*requires_grad=*/true);
  const Variable other(random_tensor(shape, 2, 2.0));
  for (auto _ : state) {
    Variable y = op(x, other);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(x.size()));
}

// Forward and backward into x.grad (for an upstream g of the output's shape).
template <class Op>
void threads_forward_backward(benchmark::State& state, xtgrad::Shape shape, Op op) {
  const xtgrad::NumThreadsGuard threads(int(state.range(0)));
  Variable x(random_tensor(shape, 1, 2.0), /*requires_grad=*/true);
  const Variable other(random_tensor(shape, 2, 2.0));
  const Tensor g = random_tensor(op(x, other).shape(), 3);
  for (auto _ : state) {
    x.zero_grad();
    Variable y = op(x, other);
    y.backward(g);
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(x.size()));
}

#define XTGRAD_THREADS_BENCH(kind, name, shape, expr)                                                         \
  BENCHMARK_CAPTURE(threads_##kind, name, shape,                                                             \
                    [](const Variable& x, [[maybe_unused]] const Variable& o) { return expr; })              \
      ->Arg(1)                                                                                                \
      ->Arg(2)                                                                                                \
      ->UseRealTime()                                                                                         \
      ->MinWarmUpTime(kWarmUpSeconds)
XTGRAD_THREADS_BENCH(forward, sigmoid_64x200, (xtgrad::Shape{kBatch, kHidden}), xtgrad::sigmoid(x));
XTGRAD_THREADS_BENCH(forward_backward, sigmoid_64x200, (xtgrad::Shape{kBatch, kHidden}), xtgrad::sigmoid(x));
XTGRAD_THREADS_BENCH(forward, exp_1M, (xtgrad::Shape{kMillion}), xtgrad::exp(x));
XTGRAD_THREADS_BENCH(forward_backward, exp_1M, (xtgrad::Shape{kMillion}), xtgrad::exp(x));
XTGRAD_THREADS_BENCH(forward, tanh_1M, (xtgrad::Shape{kMillion}), xtgrad::tanh(x));
XTGRAD_THREADS_BENCH(forward, add_1M, (xtgrad::Shape{kMillion}), x + o);
XTGRAD_THREADS_BENCH(forward_backward, add_1M, (xtgrad::Shape{kMillion}), x + o);
XTGRAD_THREADS_BENCH(forward, sum_1M, (xtgrad::Shape{kMillion}), xtgrad::sum(x));
XTGRAD_THREADS_BENCH(forward_backward, sum_1M, (xtgrad::Shape{kMillion}), xtgrad::sum(x));
XTGRAD_THREADS_BENCH(forward, softmax_128x10, (xtgrad::Shape{128, kClasses}), xtgrad::softmax(x, 1));
XTGRAD_THREADS_BENCH(forward_backward, softmax_128x10, (xtgrad::Shape{128, kClasses}), xtgrad::softmax(x, 1));
XTGRAD_THREADS_BENCH(forward, softmax_2048x512, (xtgrad::Shape{2048, 512}), xtgrad::softmax(x, 1));
XTGRAD_THREADS_BENCH(forward_backward, softmax_2048x512, (xtgrad::Shape{2048, 512}), xtgrad::softmax(x, 1));
XTGRAD_THREADS_BENCH(forward_backward, log_softmax_2048x512, (xtgrad::Shape{2048, 512}), xtgrad::log_softmax(x, 1));
XTGRAD_THREADS_BENCH(forward_backward, cross_entropy_2048x512, (xtgrad::Shape{2048, 512}), xtgrad::cross_entropy(x, o));
XTGRAD_THREADS_BENCH(forward, cross_entropy_64x10, (xtgrad::Shape{kBatch, kClasses}), xtgrad::cross_entropy(x, o));

// One Adam step on W1 (784x200) with a fixed gradient.
void BM_threads_adam_step_784x200(benchmark::State& state) {
  const xtgrad::NumThreadsGuard threads(int(state.range(0)));
  Variable w = Variable::parameter(random_tensor({kIn, kHidden}, 1, 0.01), "W");
  xtgrad::sum(w * Variable(random_tensor({kIn, kHidden}, 2))).backward();  // w.grad: that tensor
  xtgrad::nn::Adam adam({{"W", w}}, 1e-3);
  for (auto _ : state) {
    adam.step();
    benchmark::DoNotOptimize(w.value().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(kIn * kHidden));
}
BENCHMARK(BM_threads_adam_step_784x200)->Arg(1)->Arg(2)->UseRealTime()->MinWarmUpTime(kWarmUpSeconds);

// Reductions over the last axis of (2048, 512), forward only (graph recorded): outputs split
// across the threads (for_each_lane in ops/reductions.cpp). Args: op (0 max, 1 var, 2 logsumexp), threads.
void BM_threads_reduce_2048x512(benchmark::State& state) {
  const xtgrad::NumThreadsGuard threads(int(state.range(1)));
  const Variable x(random_tensor({2048, 512}, 3), /*requires_grad=*/true);
  for (auto _ : state) {
    Variable y = state.range(0) == 0 ? xtgrad::max(x, 1) : state.range(0) == 1 ? xtgrad::var(x, 1) : xtgrad::logsumexp(x, 1);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(2048 * 512));
}
BENCHMARK(BM_threads_reduce_2048x512)->ArgsProduct({{0, 1, 2}, {1, 2}})->UseRealTime()->MinWarmUpTime(kWarmUpSeconds);

// ---- exact GELU at the char transformer's FFN shape (32·64 rows, 256), one thread ------------
// BM_gelu_forward is the op (SIMD erf, ops/simd_math); BM_gelu_std_erf_loop the scalar loop its
// forward was before (½x(1 + std::erf(x/√2)) per element), for the ratio in one run.

constexpr std::size_t kGeluRows = 32 * 64, kGeluCols = 256;

void BM_gelu_forward(benchmark::State& state) {
  const xtgrad::NumThreadsGuard one(1);
  const Variable x(random_tensor({kGeluRows, kGeluCols}, 5, 3.0), /*requires_grad=*/true);
  for (auto _ : state) {
    Variable y = xtgrad::gelu(x);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(kGeluRows * kGeluCols));
}

void BM_gelu_std_erf_loop(benchmark::State& state) {
  const Tensor x = random_tensor({kGeluRows, kGeluCols}, 5, 3.0);
  Tensor y = Tensor::from_shape({kGeluRows, kGeluCols});
  for (auto _ : state) {
    const float* xs = x.data();
    float* ys = y.data();
    for (std::size_t k = 0; k < x.size(); ++k) ys[k] = 0.5f * xs[k] * (1.0f + std::erf(xs[k] * 0.70710678f));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(kGeluRows * kGeluCols));
}

#define XTGRAD_OP_BENCH(fn) BENCHMARK(fn)->UseRealTime()->MinWarmUpTime(kWarmUpSeconds)
XTGRAD_OP_BENCH(BM_gelu_forward);
XTGRAD_OP_BENCH(BM_gelu_std_erf_loop);
XTGRAD_OP_BENCH(BM_matmul_forward);
XTGRAD_OP_BENCH(BM_matmul_backward_dW);
XTGRAD_OP_BENCH(BM_matmul_backward_dX);
XTGRAD_OP_BENCH(BM_linear_forward);
XTGRAD_OP_BENCH(BM_linear_forward_backward);
XTGRAD_OP_BENCH(BM_sigmoid_forward);
XTGRAD_OP_BENCH(BM_sigmoid_backward);
XTGRAD_OP_BENCH(BM_cross_entropy_forward);
XTGRAD_OP_BENCH(BM_cross_entropy_forward_backward);

}  // namespace

int main(int argc, char** argv) { return xtgrad_bench::run_benchmarks(argc, argv); }
