// One whole training step of the seed model, as nn::fit runs it: next batch (copied into the
// two batch leaves in place), forward, cross-entropy, the penalty added as a loss term, item(),
// zero_grad, backward, SGD step. Model: the app's TwoLayerNet (784 → hidden → 10), random
// data in [−1, 1] with one-hot labels, batch 64 unless the argument says otherwise.
//
// Counters per step (averaged over the timed iterations, after warm-up):
//   allocs, bytes   heap allocations and bytes requested, the whole step, by xtgrad (and this
//                   program): not those OpenBLAS makes inside gemm() (malloc_counter.hpp);
//   blas_allocs     those: allocations made inside OpenBLAS calls (its AVX-512 small-matrix
//                   kernels allocate on some shapes);
//   allocs_fwd / allocs_bwd / allocs_opt   the same split by phase (forward + loss + penalty,
//                   backward, zero_grad + step); the batch copy is in allocs only;
//   minflt          minor page faults (fresh pages: ~12 µs each on this VM).
//
// The counter (malloc_counter.hpp) interposes the whole malloc family for this program.
//
// XTGRAD_BENCH_TRACE_ALLOCS=none|l2|l1 (1 = none) additionally prints the size of every
// allocation of one step with that penalty, in order and by phase, before the benchmarks run.
// Environment as bench_ops: XTGRAD_BENCH_THREADS (default 1), XTGRAD_BENCH_DEFAULT_MALLOC=1.
#include <malloc.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "bench_setup.hpp"

#include <xtgrad/core/core.hpp>
#include <xtgrad/core/gemm.hpp>
#include <xtgrad/nn/batches.hpp>
#include <xtgrad/nn/optimizers.hpp>
#include <xtgrad/ops/elementwise.hpp>
#include <xtgrad/ops/losses.hpp>
#include <xtgrad/regularizers/spec.hpp>

#include "experiment.hpp"  // mnist_app::TwoLayerNet

#include "malloc_counter.hpp"  // defines malloc & co. for this program

namespace {

using namespace malloc_counter;
using xtgrad::Scalar;
using xtgrad::Tensor;
using xtgrad::Variable;

struct Snapshot {
  std::uint64_t allocs, bytes, blas_allocs;
  static Snapshot now() { return {g_allocs.load(), g_bytes.load(), g_blas_allocs.load()}; }
};

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

const char* const kRegSpecs[] = {"none", "l2(lambd=0.01)", "l1(lambd=0.0001)"};

// The seed model, an SGD optimizer and random data: everything one step needs, kept alive
// across steps exactly as nn::fit keeps it.
struct Trainer {
  xtgrad::Rng rng;
  mnist_app::TwoLayerNet model;
  xtgrad::NamedParameters params;
  xtgrad::nn::SGD optimizer;
  std::unique_ptr<xtgrad::Regularizer> reg;
  Tensor inputs, targets;
  xtgrad::nn::BatchIterator batches;
  Variable x_batch{Tensor{}}, y_batch{Tensor{}};
  double sink = 0;
  bool create_graph = false;  // BM_train_step_create_graph: every op's backward as graph ops

  Trainer(std::size_t batch, std::size_t hidden, const char* reg_spec, std::size_t rows = 4096)
      : rng(0),
        model(784, hidden, 10, rng),
        params(model.named_parameters()),
        optimizer(params, 0.1),
        reg(xtgrad::make_regularizer(reg_spec)),
        inputs(xtgrad::rand_uniform({rows, 784}, rng, -1.0, 1.0)),
        targets(make_targets(rows, rng)),
        batches(inputs, targets, batch, /*shuffle=*/true, rng) {}

  static Tensor make_targets(std::size_t rows, xtgrad::Rng& rng) {
    Tensor y = Tensor::from_shape({rows, 10});
    y.fill(Scalar(0));
    for (std::size_t i = 0; i < rows; ++i) y.data()[i * 10 + rng() % 10] = Scalar(1);
    return y;
  }

  void next_batch() {
    if (!batches.next(x_batch.mutable_value(), y_batch.mutable_value())) {
      batches.start_epoch();
      batches.next(x_batch.mutable_value(), y_batch.mutable_value());
    }
  }

  // nn::fit's loop body (nn/train.cpp), with the app's always-present penalty. `marks`, when
  // given, receives counter snapshots after the batch, the forward pass and the backward pass.
  void step(Snapshot* marks = nullptr) {
    next_batch();
    if (marks) marks[0] = Snapshot::now();
    Variable data_loss = xtgrad::cross_entropy(model(x_batch), y_batch);
    Variable penalty = reg->penalty(params);
    const double penalty_value = penalty.item();
    Variable loss = data_loss + penalty;
    const double data_value = data_loss.item();
    if (marks) marks[1] = Snapshot::now();
    optimizer.zero_grad();
    loss.backward({.create_graph = create_graph});
    if (marks) marks[2] = Snapshot::now();
    optimizer.step();
    sink += data_value + penalty_value;
  }
};

void run_train_step(benchmark::State& state, bool create_graph) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const auto hidden = static_cast<std::size_t>(state.range(1));
  const char* spec = kRegSpecs[state.range(2)];
  Trainer trainer(batch, hidden, spec);
  trainer.create_graph = create_graph;
  // Explicit warm-up on top of MinWarmUpTime: the first steps allocate the gradient buffers.
  for (int i = 0; i < 20; ++i) trainer.step();

  std::uint64_t fwd = 0, bwd = 0, opt = 0;
  const Snapshot start = Snapshot::now();
  const long faults_start = minor_faults();
  g_counting = true;
  for (auto _ : state) {
    Snapshot marks[3];
    trainer.step(marks);
    const Snapshot end = Snapshot::now();
    fwd += marks[1].allocs - marks[0].allocs;
    bwd += marks[2].allocs - marks[1].allocs;
    opt += end.allocs - marks[2].allocs;
  }
  g_counting = false;
  const Snapshot end = Snapshot::now();
  const long faults = minor_faults() - faults_start;
  benchmark::DoNotOptimize(trainer.sink);

  using benchmark::Counter;
  state.counters["allocs"] = Counter(double(end.allocs - start.allocs), Counter::kAvgIterations);
  state.counters["bytes"] = Counter(double(end.bytes - start.bytes), Counter::kAvgIterations, Counter::kIs1024);
  state.counters["allocs_fwd"] = Counter(double(fwd), Counter::kAvgIterations);
  state.counters["allocs_bwd"] = Counter(double(bwd), Counter::kAvgIterations);
  state.counters["allocs_opt"] = Counter(double(opt), Counter::kAvgIterations);
  state.counters["blas_allocs"] = Counter(double(end.blas_allocs - start.blas_allocs), Counter::kAvgIterations);
  state.counters["minflt"] = Counter(double(faults), Counter::kAvgIterations);
  state.counters["samples/s"] = Counter(double(batch), Counter::kIsIterationInvariantRate);
  // GEMM work per step: forward (two layers), dW1 and dW2 and dH; no dX for the data batch.
  const double flops = 2.0 * double(batch) * (784.0 * double(hidden) * 2 + double(hidden) * 10 * 3);
  state.counters["GFLOPS"] = Counter(flops * 1e-9, Counter::kIsIterationInvariantRate);
  state.SetLabel(spec);
}

void BM_train_step(benchmark::State& state) { run_train_step(state, false); }
// The same step with backward({.create_graph = true}): each op's backward runs its
// differentiable path (graph ops: matmul with transposed copies, softmax and cross-entropy
// rebuilt from ops, ...) instead of the fused gemm / loop fast path. What the specialised
// fast paths save.
void BM_train_step_create_graph(benchmark::State& state) { run_train_step(state, true); }

// (batch, hidden, regularizer index into kRegSpecs)
BENCHMARK(BM_train_step_create_graph)
    ->ArgNames({"batch", "hidden", "reg"})
    ->Args({64, 200, 0})
    ->UseRealTime()
    ->MinWarmUpTime(0.3);
BENCHMARK(BM_train_step)
    ->ArgNames({"batch", "hidden", "reg"})
    ->Args({64, 200, 0})
    ->Args({64, 200, 1})
    ->Args({64, 200, 2})
    ->UseRealTime()
    ->MinWarmUpTime(0.3);

// Prints one step's allocations, in order, split by phase.
void trace_one_step(const char* reg) {
  const int r = std::strcmp(reg, "l2") == 0 ? 1 : std::strcmp(reg, "l1") == 0 ? 2 : 0;
  Trainer trainer(64, 200, kRegSpecs[r]);
  for (int i = 0; i < 20; ++i) trainer.step();
  Snapshot marks[3];
  g_trace_len = 0;
  g_tracing = true;
  g_counting = true;
  const std::uint64_t before = g_allocs.load();
  trainer.step(marks);
  g_counting = false;
  g_tracing = false;
  const std::size_t n = std::min<std::size_t>(g_trace_len.load(), kTraceCapacity);
  const std::uint64_t cut[3] = {marks[0].allocs - before, marks[1].allocs - before, marks[2].allocs - before};
  const char* phase_names[4] = {"batch", "forward+loss+penalty", "zero_grad+backward", "step"};
  std::printf("allocations of one training step (batch 64, hidden 200, reg %s): %zu\n", kRegSpecs[r], n);
  int phase = -1;
  for (std::size_t i = 0; i < n; ++i) {
    int p = 0;
    while (p < 3 && i >= cut[p]) ++p;
    if (p != phase) {
      phase = p;
      std::printf("  [%s]\n", phase_names[p]);
    }
    std::printf("    #%-3zu %zu bytes\n", i, g_trace[i]);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = xtgrad_bench::setup_process();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (const char* t = std::getenv("XTGRAD_BENCH_TRACE_ALLOCS"); t && std::strcmp(t, "0") != 0) trace_one_step(t);
  xtgrad_bench::add_context(threads);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
