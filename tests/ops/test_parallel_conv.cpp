// conv2d, the pooling ops, batch_norm and dropout at 3 threads against 1 thread (issue 21), in
// float and double: the value and every gradient. Bit-identical where no sum is split among the
// threads and no BLAS call changes shape (the direct conv kernel, the pooling ops, batch_norm,
// whose parts are fixed by shape, dropout); the im2col conv's y and dx to the rounding of a
// BLAS kernel (kProductTol), its dW and db (sums of per-task partials) to float noise. The shapes are
// chosen to reach the parallel paths (comments give the task counts at 3 threads), and one
// gradient check runs conv2d's with 2 tasks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/parallel.hpp"

namespace {

using xtgrad::Conv2dOptions;
using xtgrad::NumThreadsGuard;
using xtgrad::Pool2dOptions;
using xtgrad::Shape;
using xtgrad_test::expect_gradcheck;
using Vars = std::vector<xtgrad_test::Variable>;

template <class T>
using TensorT = xtgrad::TensorOf<T>;
template <class T>
using VariableT = xtgrad::BasicVariable<T>;
template <class T>
using Results = std::vector<TensorT<T>>;  // the value, then the gradients

template <class T>
TensorT<T> random(const Shape& shape, std::uint64_t seed, double low = -1, double high = 1) {
  xtgrad::Rng rng(seed);
  return xtgrad::rand_uniform<T>(shape, rng, low, high);
}

template <class T>
Results<T> at_threads(int threads, const std::function<Results<T>()>& run) {
  const NumThreadsGuard guard(threads);
  return run();
}

// Every element of `actual` equals `expected`'s (tol 0: bit for bit; else within
// tol·max(1, max |expected|)).
template <class T>
void expect_agree(const TensorT<T>& actual, const TensorT<T>& expected, double tol, const std::string& what) {
  ASSERT_EQ(xtgrad::shape_str(actual), xtgrad::shape_str(expected)) << what;
  double scale = 1;
  for (std::size_t i = 0; i < expected.size(); ++i) scale = std::max(scale, double(std::abs(expected.data()[i])));
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const bool ok = tol == 0 ? actual.data()[i] == expected.data()[i]
                             : std::abs(double(actual.data()[i]) - double(expected.data()[i])) <= tol * scale;
    if (!ok && bad++ == 0) first = i;
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << actual.size() << " elements differ, first at " << first
                     << ": " << actual.data()[first] << " vs " << expected.data()[first];
}

// run() at 1 and at 3 threads; results[i] must agree to tols[i] (0: bit for bit).
template <class T>
void expect_threads_agree(const std::function<Results<T>()>& run, const std::vector<double>& tols,
                          const std::vector<std::string>& names) {
  const Results<T> one = at_threads<T>(1, run), three = at_threads<T>(3, run);
  ASSERT_EQ(one.size(), tols.size());
  ASSERT_EQ(three.size(), tols.size());
  for (std::size_t i = 0; i < tols.size(); ++i) expect_agree<T>(three[i], one[i], tols[i], names[i]);
}

// Relative tolerance of a sum split into per-task partials.
template <class T>
constexpr double kSumTol = sizeof(T) == 4 ? 2e-5 : 1e-12;
// Relative tolerance of the im2col path's y and dx. Each element's k-sum is one gemm call's at
// any thread count, but the calls' widths follow the tasks (samples per product), and some
// BLAS kernels round an element differently with the width of the product it sits in
// (OpenBLAS's Haswell and Zen sgemm on an AMD Zen 5: a few float ulps; SkylakeX: none).
template <class T>
constexpr double kProductTol = sizeof(T) == 4 ? 1e-6 : 1e-14;

// ---- conv2d ---------------------------------------------------------------------------------

// The direct kernel (few input channels) in float and double: y, dx, dw, db the same bits at 1
// and 3 threads, with 19 samples (three blocks of the fixed dW / db partition, none a multiple
// of the thread count) and 10 output channels (a block of 8 in registers and a rest of 2).
template <class T>
void direct_kernel_is_bit_stable() {
  const TensorT<T> x = random<T>({19, 2, 13, 11}, 71), w = random<T>({10, 2, 3, 3}, 72), b = random<T>({10}, 73);
  const TensorT<T> up = random<T>({19, 10, 13, 11}, 74);
  Conv2dOptions o;
  o.padding = {1, 1};
  o.kernel = xtgrad::Conv2dKernel::direct;
  expect_threads_agree<T>(
      [&] {
        VariableT<T> xv(x, true), wv(w, true), bv(b, true);
        VariableT<T> y = xtgrad::conv2d(xv, wv, bv, o);
        y.backward(up);
        return Results<T>{y.value(), xv.grad(), wv.grad(), bv.grad()};
      },
      {0, 0, 0, 0}, {"y", "dx", "dw", "db"});
}
TEST(ParallelConv, DirectKernelGivesTheSameBitsAtEveryThreadCount) {
  direct_kernel_is_bit_stable<float>();
  direct_kernel_is_bit_stable<double>();
}

// LeNet's first layer as the automatic choice runs it (x a constant), at 1, 2 and 3 threads.
TEST(ParallelConv, FirstLayerGivesTheSameBitsAtOneTwoAndThreeThreads) {
  using T = float;
  const TensorT<T> x = random<T>({64, 1, 28, 28}, 81), w = random<T>({6, 1, 5, 5}, 82), b = random<T>({6}, 83);
  const TensorT<T> up = random<T>({64, 6, 28, 28}, 84);
  Conv2dOptions o;
  o.padding = {2, 2};
  const auto run = [&] {
    VariableT<T> xv(x), wv(w, true), bv(b, true);
    VariableT<T> y = xtgrad::conv2d(xv, wv, bv, o);
    y.backward(up);
    return Results<T>{y.value(), wv.grad(), bv.grad()};
  };
  const Results<T> one = at_threads<T>(1, run);
  for (int threads : {2, 3}) {
    const Results<T> many = at_threads<T>(threads, run);
    for (std::size_t i = 0; i < one.size(); ++i) {
      expect_agree<T>(many[i], one[i], 0, std::to_string(threads) + " threads, result " + std::to_string(i));
    }
  }
}


// y = conv2d(x, w[, b]) (twice and added when `twice`: every gradient accumulates), backward
// from a fixed upstream; x, w, b all need gradients. Results: y, dx, dw[, db].
template <class T>
Results<T> conv_run(const Shape& xs, const Shape& ws, const Conv2dOptions& o, bool with_bias, bool twice) {
  const VariableT<T> x = VariableT<T>::parameter(random<T>(xs, 11));
  const VariableT<T> w = VariableT<T>::parameter(random<T>(ws, 12));
  const VariableT<T> b = VariableT<T>::parameter(random<T>({ws[0]}, 13));
  const auto conv = [&] { return with_bias ? xtgrad::conv2d(x, w, b, o) : xtgrad::conv2d(x, w, o); };
  VariableT<T> y = conv();
  if (twice) y = y + conv();
  y.backward(random<T>(xtgrad::shape_of(y.value()), 14));
  Results<T> r{y.value(), x.grad(), w.grad()};
  if (with_bias) r.push_back(b.grad());
  return r;
}

template <class T>
void expect_conv_threads_agree(const Shape& xs, const Shape& ws, const Conv2dOptions& o, bool with_bias,
                               bool twice = false) {
  std::vector<double> tols{kProductTol<T>, kProductTol<T>, kSumTol<T>};
  std::vector<std::string> names{"y", "dx", "dw"};
  if (with_bias) tols.push_back(kSumTol<T>), names.push_back("db");
  expect_threads_agree<T>([&] { return conv_run<T>(xs, ws, o, with_bias, twice); }, tols, names);
}

Conv2dOptions padded(std::size_t p) {
  Conv2dOptions o;
  o.padding = {p, p};
  return o;
}

TEST(ParallelConv2d, LeNetLikeLayerAgreesAtOneAndThreeThreads) {
  // 12 samples · 8·196·75 multiply-adds: 3 tasks of 4 samples, forward's cols kept.
  expect_conv_threads_agree<float>({12, 3, 14, 14}, {8, 3, 5, 5}, padded(2), true);
  expect_conv_threads_agree<double>({12, 3, 14, 14}, {8, 3, 5, 5}, padded(2), true);
}

TEST(ParallelConv2d, GroupsStrideAndDilationAgreeAtOneAndThreeThreads) {
  // 2 groups, stride 2, dilation 2, no bias: 9 samples · 16·256·36, 3 tasks.
  Conv2dOptions o;
  o.groups = 2;
  o.stride = {2, 2};
  o.dilation = {2, 2};
  o.padding = {1, 1};
  expect_conv_threads_agree<float>({9, 8, 33, 33}, {16, 4, 3, 3}, o, false);
  expect_conv_threads_agree<double>({9, 8, 33, 33}, {16, 4, 3, 3}, o, false);
}

TEST(ParallelConv2d, TasksOfSeveralChunksAgreeAtOneAndThreeThreads) {
  // K·L = 144·2304 per sample, 15 samples: over the 2²² cols budget, so nothing is kept and
  // each task of 5 samples runs 5 chunks of one sample (over the 2¹⁸ cache chunk); at 1 thread, 15.
  expect_conv_threads_agree<float>({15, 16, 48, 48}, {4, 16, 3, 3}, padded(1), true);
  expect_conv_threads_agree<double>({15, 16, 48, 48}, {4, 16, 3, 3}, padded(1), true);
}

TEST(ParallelConv2d, AccumulatedGradientsAgreeAtOneAndThreeThreads) {
  // conv(x, w, b) + conv(x, w, b): the second backward adds to dx, dW and db.
  expect_conv_threads_agree<float>({12, 3, 14, 14}, {8, 3, 5, 5}, padded(2), true, true);
  expect_conv_threads_agree<double>({12, 3, 14, 14}, {8, 3, 5, 5}, padded(2), true, true);
}

TEST(ParallelConv2d, BatchSmallerThanTheThreadsAgreesAtOneAndThreeThreads) {
  // 2 samples for 3 threads: one task, gemm splits the products instead.
  expect_conv_threads_agree<float>({2, 16, 28, 28}, {32, 16, 3, 3}, padded(1), true);
  expect_conv_threads_agree<double>({2, 16, 28, 28}, {32, 16, 3, 3}, padded(1), true);
}

TEST(ParallelConv2d, PassesGradcheckWithTwoTasks) {
  // 3 samples · 16·256·50 = 614,400 multiply-adds: 2 tasks at 3 threads. conv2d is linear in
  // each input, so a wide central-difference step is exact and keeps the rounding of the
  // 12,288-term projection ⟨y, R⟩ out of the numeric derivative.
  const NumThreadsGuard three(3);
  xtgrad::GradcheckOptions options;
  options.eps = 1e-3;
  expect_gradcheck([](const Vars& v) { return xtgrad::conv2d(v[0], v[1], v[2], padded(2)); },
                   {random<double>({3, 2, 16, 16}, 21), random<double>({16, 2, 5, 5}, 22), random<double>({16}, 23)},
                   options);
}

// ---- pooling --------------------------------------------------------------------------------

template <class T>
Results<T> pool_run(const std::function<VariableT<T>(const VariableT<T>&)>& pool) {
  // 8·16 planes of 28·28: 3 chunks of planes at 3 threads
  const VariableT<T> x = VariableT<T>::parameter(random<T>({8, 16, 28, 28}, 31));
  VariableT<T> y = pool(x);
  y = y + pool(x);  // dx accumulates
  y.backward(random<T>(xtgrad::shape_of(y.value()), 32));
  return {y.value(), x.grad()};
}

template <class T>
void expect_pooling_threads_agree() {
  const std::vector<std::function<VariableT<T>(const VariableT<T>&)>> pools = {
      [](const VariableT<T>& x) { return xtgrad::max_pool2d(x, Pool2dOptions{}); },
      [](const VariableT<T>& x) { return xtgrad::max_pool2d(x, Pool2dOptions{{3, 3}, {2, 2}, {1, 1}}); },
      [](const VariableT<T>& x) { return xtgrad::avg_pool2d(x, Pool2dOptions{{2, 3}, {1, 2}, {1, 1}}); },
      [](const VariableT<T>& x) { return xtgrad::adaptive_avg_pool2d(x, {5, 3}); }};
  for (std::size_t i = 0; i < pools.size(); ++i) {
    SCOPED_TRACE("pooling op " + std::to_string(i));
    expect_threads_agree<T>([&] { return pool_run<T>(pools[i]); }, {0, 0}, {"y", "dx"});
  }
}

TEST(ParallelPooling, EveryPoolingAgreesBitForBitAtOneAndThreeThreads) {
  expect_pooling_threads_agree<float>();
  expect_pooling_threads_agree<double>();
}

// ---- batch_norm -----------------------------------------------------------------------------

// batch_norm forward and backward; results y, dx, dγ, dβ, running mean, running variance.
// The input is offset far from 0 (mean 50, spread 1) to exercise the one-pass variance.
template <class T>
Results<T> batch_norm_run(const Shape& xs, bool training) {
  const std::size_t c = xs[1];
  const VariableT<T> x = VariableT<T>::parameter(random<T>(xs, 41, 49, 51));
  const VariableT<T> gamma = VariableT<T>::parameter(random<T>({c}, 42, 0.5, 1.5));
  const VariableT<T> beta = VariableT<T>::parameter(random<T>({c}, 43));
  TensorT<T> running_mean = random<T>({c}, 44, 49, 51), running_var = random<T>({c}, 45, 0.5, 1.5);
  VariableT<T> y = xtgrad::batch_norm(x, gamma, beta, running_mean, running_var, training);
  y.backward(random<T>(xs, 46));
  return {y.value(), x.grad(), gamma.grad(), beta.grad(), running_mean, running_var};
}

template <class T>
void expect_batch_norm_threads_agree(const Shape& xs) {
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    expect_threads_agree<T>([&] { return batch_norm_run<T>(xs, training); }, {0, 0, 0, 0, 0, 0},
                            {"y", "dx", "dgamma", "dbeta", "running_mean", "running_var"});
  }
}

TEST(ParallelBatchNorm, AgreesBitForBitAtOneAndThreeThreads) {
  // (32, 8, 24, 24): 32 parts of 8 samples · 576 values, 256 planes: 3 chunks each.
  expect_batch_norm_threads_agree<float>({32, 8, 24, 24});
  expect_batch_norm_threads_agree<double>({32, 8, 24, 24});
  // (4096, 24), BatchNorm1d's layout: one part per channel, planes of one value.
  expect_batch_norm_threads_agree<float>({4096, 24});
  expect_batch_norm_threads_agree<double>({4096, 24});
}

TEST(ParallelBatchNorm, ChannelByChannelPathAgreesWithThePlanePath) {
  // 2 channels: at 3 threads fewer channels than threads, so training runs the sums over every
  // channel, then the planes; at 1 thread channel by channel. The same bits both ways.
  expect_batch_norm_threads_agree<float>({20, 2, 13, 11});
  expect_batch_norm_threads_agree<double>({20, 2, 13, 11});
  expect_batch_norm_threads_agree<float>({300, 2});
  expect_batch_norm_threads_agree<double>({300, 2});
}

TEST(ParallelBatchNorm, OnePassVarianceMatchesTwoPassFarFromZero) {
  // Values 1e4 + U(−1, 1) in double: the shifted one-pass sums must give the two-pass
  // variance to ~1e-12 relative (plain Σx² − (Σx)²/M would lose ~8 digits here).
  const std::size_t n = 64, c = 3, s = 50;
  const TensorT<double> x = random<double>({n, c, s}, 51, 1e4 - 1, 1e4 + 1);
  TensorT<double> rm = TensorT<double>::from_shape({c}), rv = TensorT<double>::from_shape({c});
  rm.fill(0);
  rv.fill(0);
  const NumThreadsGuard three(3);
  xtgrad::batch_norm(VariableT<double>(x), VariableT<double>(xtgrad_test::filled({c}, 1)),
                     VariableT<double>(xtgrad_test::filled({c}, 0)), rm, rv, true, 1.0, 1e-5);
  for (std::size_t ch = 0; ch < c; ++ch) {
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < s; ++k) mean += x(i, ch, k);
    mean /= double(n * s);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < s; ++k) var += (x(i, ch, k) - mean) * (x(i, ch, k) - mean);
    var /= double(n * s - 1);  // momentum 1: the running variance is this batch's, unbiased
    EXPECT_NEAR(rm(ch), mean, 1e-12 * mean);
    EXPECT_NEAR(rv(ch), var, 1e-11 * var);
  }
}

// ---- dropout --------------------------------------------------------------------------------

template <class T>
Results<T> dropout_run() {
  // 4·32·32·32 = 131,072 values: the multiplies in 3 chunks at 3 threads; the mask is one
  // stream of draws from the seed whatever the threads.
  const VariableT<T> x = VariableT<T>::parameter(random<T>({4, 32, 32, 32}, 61));
  xtgrad::Rng rng(62);
  VariableT<T> y = xtgrad::dropout(x, 0.3, rng, true);
  y = y + xtgrad::dropout(x, 0.3, rng, true);  // dx accumulates
  y.backward(random<T>(xtgrad::shape_of(y.value()), 63));
  return {y.value(), x.grad()};
}

TEST(ParallelDropout, AgreesBitForBitAtOneAndThreeThreads) {
  expect_threads_agree<float>(dropout_run<float>, {0, 0}, {"y", "dx"});
  expect_threads_agree<double>(dropout_run<double>, {0, 0}, {"y", "dx"});
}

}  // namespace
