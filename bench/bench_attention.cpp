// Attention at the char transformer's shapes (batch 32, 4 heads, L 64, d 16), causal, float:
// the fused scaled_dot_product_attention against the composed ops it replaces
// (matmul_nd(q, swap_axes(k)) · scale, where(causal, s, −inf), softmax, matmul_nd(p, v)),
// forward and forward+backward, at 1 and 2 threads (the benchmark's second argument); and the
// block's layer_norm and N-d linear (folded vs reshape copies), forward+backward.
//
// Interleave the variants in one run, e.g.
//   bench_attention --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//                   --benchmark_report_aggregates_only=true
// and note the machine's load (uptime) beside the numbers.

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include <benchmark/benchmark.h>

#include "bench_setup.hpp"

#include <xtgrad/core/core.hpp>
#include <xtgrad/core/parallel.hpp>
#include <xtgrad/ops/ops.hpp>

namespace {

using xtgrad::Tensor;
using xtgrad::Variable;

constexpr std::size_t kBatch = 32, kHeads = 4, kLen = 64, kDim = 16;
constexpr double kWarmUpSeconds = 0.2;

Tensor random_tensor(const xtgrad::Shape& shape, std::uint64_t seed) {
  xtgrad::Rng rng(seed);
  return xtgrad::randn(shape, rng, 0.0, 1.0);
}

struct Inputs {
  Variable q, k, v;
  Tensor seed;  // upstream gradient of the output
  Tensor causal;  // (L, L): 1 where key j <= query i
  Variable neg_inf;
  Variable qp = {}, kp = {}, vp = {};  // (B, L, H·d): heads side by side, as a Linear gives them
};

Inputs make_inputs() {
  const xtgrad::Shape shape{kBatch, kHeads, kLen, kDim};
  Inputs in{Variable::parameter(random_tensor(shape, 1)), Variable::parameter(random_tensor(shape, 2)),
            Variable::parameter(random_tensor(shape, 3)), random_tensor(shape, 4), Tensor::from_shape({kLen, kLen}),
            Variable(Tensor{-std::numeric_limits<float>::infinity()})};
  for (std::size_t i = 0; i < kLen; ++i)
    for (std::size_t j = 0; j < kLen; ++j) in.causal(i, j) = j <= i ? 1.0f : 0.0f;
  const xtgrad::Shape packed{kBatch, kLen, kHeads * kDim};
  in.qp = Variable::parameter(random_tensor(packed, 13));
  in.kp = Variable::parameter(random_tensor(packed, 14));
  in.vp = Variable::parameter(random_tensor(packed, 15));
  return in;
}

Variable fused(const Inputs& in) {
  xtgrad::AttentionOptions o;
  o.causal = true;
  return xtgrad::scaled_dot_product_attention(in.q, in.k, in.v, o);
}

Variable composed_on(const Inputs& in, const Variable& q, const Variable& k, const Variable& v) {
  const double scale = 1.0 / std::sqrt(double(kDim));
  const Variable s = xtgrad::matmul_nd(q, xtgrad::swap_axes(k, -1, -2)) * scale;
  const Variable p = xtgrad::softmax(xtgrad::where(in.causal, s, in.neg_inf), -1);
  return xtgrad::matmul_nd(p, v);
}
Variable composed(const Inputs& in) { return composed_on(in, in.q, in.k, in.v); }

// From (B, L, H·d) as a Linear gives it: heads read in place by the fused op ...
Variable fused_heads(const Inputs& in) {
  xtgrad::AttentionOptions o;
  o.causal = true;
  o.heads = kHeads;
  return xtgrad::scaled_dot_product_attention(in.qp, in.kp, in.vp, o);
}
// ... or split by reshape + swap_axes copies, composed, and merged back by two more.
Variable composed_heads(const Inputs& in) {
  const auto split = [](const Variable& x) {
    return xtgrad::swap_axes(xtgrad::reshape(x, {kBatch, kLen, kHeads, kDim}), 1, 2);
  };
  const Variable o = composed_on(in, split(in.qp), split(in.kp), split(in.vp));
  return xtgrad::reshape(xtgrad::swap_axes(o, 1, 2), {kBatch, kLen, kHeads * kDim});
}

// state.range(0): 0 fused, 1 composed, 2 fused on (B, L, H·d), 3 composed with the head
// split/merge copies; state.range(1): threads; `backward`: forward+backward.
void BM_attention(benchmark::State& state, bool backward) {
  const int variant = int(state.range(0));
  const xtgrad::NumThreadsGuard threads(int(state.range(1)));
  Inputs in = make_inputs();
  const Tensor packed_seed = xtgrad::reshape(Variable(in.seed), {kBatch, kLen, kHeads * kDim}).value();
  const auto step = [&] {
    Variable y = variant == 0 ? fused(in) : variant == 1 ? composed(in) : variant == 2 ? fused_heads(in) : composed_heads(in);
    if (backward) {
      y.backward(variant < 2 ? in.seed : packed_seed);
      for (Variable* p : {&in.q, &in.k, &in.v, &in.qp, &in.kp, &in.vp}) p->zero_grad();
    }
    benchmark::DoNotOptimize(y.value().data());
  };
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < kWarmUpSeconds) step();
  for (auto _ : state) step();
  static const char* const names[] = {"fused", "composed", "fused, heads side by side",
                                     "composed, head split/merge copies"};
  state.SetLabel(std::string(names[variant]) + ", " + std::to_string(state.range(1)) + " thread" +
                 (state.range(1) > 1 ? "s" : ""));
}

void args(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2})
    for (int variant : {0, 1, 2, 3}) b->Args({variant, threads});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK_CAPTURE(BM_attention, forward, false)->Apply(args);
BENCHMARK_CAPTURE(BM_attention, forward_backward, true)->Apply(args);

// The block's other two pieces at its shapes (batch 32, L 64, width 64), forward+backward.
constexpr std::size_t kWidth = kHeads * kDim, kHidden = 4 * kWidth;

// Warm up, then time `step`.
template <class F>
void timed(benchmark::State& state, const F& step) {
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < kWarmUpSeconds) step();
  for (auto _ : state) step();
}

// layer_norm over the last axis of x (32, 64, 64); state.range(1): threads.
void BM_layer_norm(benchmark::State& state) {
  const xtgrad::NumThreadsGuard threads(int(state.range(1)));
  Variable x = Variable::parameter(random_tensor({kBatch, kLen, kWidth}, 5));
  Variable w = Variable::parameter(random_tensor({kWidth}, 6)), b = Variable::parameter(random_tensor({kWidth}, 7));
  const Tensor seed = random_tensor({kBatch, kLen, kWidth}, 8);
  timed(state, [&] {
    Variable y = xtgrad::layer_norm(x, w, b);
    y.backward(seed);
    for (Variable* p : {&x, &w, &b}) p->zero_grad();
  });
  state.SetLabel(std::to_string(state.range(1)) + " thread(s)");
}

// x (32, 64, 64)·W (64, 256) + b: state.range(0) 0 the N-d linear (rows folded by pointer),
// 1 the reshape → 2-d linear → reshape it replaces; state.range(1): threads.
void BM_linear_nd(benchmark::State& state) {
  const bool folded = state.range(0) == 0;
  const xtgrad::NumThreadsGuard threads(int(state.range(1)));
  Variable x = Variable::parameter(random_tensor({kBatch, kLen, kWidth}, 9));
  Variable w = Variable::parameter(random_tensor({kWidth, kHidden}, 10)), b = Variable::parameter(random_tensor({kHidden}, 11));
  const Tensor seed = random_tensor({kBatch, kLen, kHidden}, 12);
  const xtgrad::Shape rows{kBatch * kLen, kWidth}, back{kBatch, kLen, kHidden};
  timed(state, [&] {
    Variable y = folded ? xtgrad::linear(x, w, b) : xtgrad::reshape(xtgrad::linear(xtgrad::reshape(x, rows), w, b), back);
    y.backward(seed);
    for (Variable* p : {&x, &w, &b}) p->zero_grad();
  });
  state.SetLabel(std::string(folded ? "folded" : "reshape copies") + ", " + std::to_string(state.range(1)) + " thread(s)");
}

BENCHMARK(BM_layer_norm)->Args({0, 1})->Args({0, 2})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_linear_nd)->Args({0, 1})->Args({1, 1})->Args({0, 2})->Args({1, 2})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  xtgrad_bench::setup_process();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  xtgrad_bench::add_context(1);
  benchmark::AddCustomContext("shapes", "q, k, v (32, 4, 64, 16) float, causal");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
