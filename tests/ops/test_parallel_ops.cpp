// The ops on every core (issue 21): for inputs large enough to be split across threads, the
// elementwise ops, the activations and the row-wise ops (softmax, log_softmax, cross_entropy's
// gradient) give bit for bit the one-thread result at 3 threads; the reductions (whose chunk
// partials add in another order) agree to rounding and repeat bit for bit at 3 threads; so do
// the optimizers' updates, the penalties and the proximal step. No test measures time.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/regularizers/prox.hpp"

namespace xtgrad_test {
namespace {

using xtgrad::NumThreadsGuard;

// 257·1001 = 257257 elements: 3 chunks at kElementwiseGrain (32Ki) and more at
// kTranscendentalGrain, and a size that is no multiple of any SIMD width (a scalar tail).
const Shape kBig = {257, 1001};

template <class S>
using Op = std::function<xtgrad::BasicVariable<S>(const std::vector<xtgrad::BasicVariable<S>>&)>;

// The output of op(inputs) and the gradients of the inputs for a fixed random upstream
// gradient, computed at `threads` threads.
template <class S>
std::vector<xtgrad::TensorOf<S>> forward_backward(int threads, const Op<S>& op,
                                                   const std::vector<xtgrad::TensorOf<S>>& inputs) {
  const NumThreadsGuard guard(threads);
  std::vector<xtgrad::BasicVariable<S>> vars;
  for (const auto& t : inputs) vars.emplace_back(t, true);
  const xtgrad::BasicVariable<S> y = op(vars);
  xtgrad::Rng rng(99);
  const xtgrad::TensorOf<S> g = xtgrad::rand_uniform<S>(y.shape(), rng, -1.0, 1.0);
  y.backward(g);
  std::vector<xtgrad::TensorOf<S>> out{y.value()};
  for (const auto& v : vars) out.push_back(v.grad());
  return out;
}

// Same shapes and the same bytes (NaN included).
template <class S>
void expect_identical(const std::vector<xtgrad::TensorOf<S>>& a, const std::vector<xtgrad::TensorOf<S>>& b,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(xtgrad::shape_of(a[i]), xtgrad::shape_of(b[i])) << what << ", tensor " << i;
    std::size_t differ = 0, first = 0;
    for (std::size_t k = a[i].size(); k-- > 0;) {
      if (std::memcmp(a[i].data() + k, b[i].data() + k, sizeof(S)) != 0) {
        ++differ;
        first = k;
      }
    }
    EXPECT_EQ(differ, 0u) << what << ", tensor " << i << " (0: output, then the inputs' gradients): first at "
                          << first << ": " << a[i].data()[first] << " vs " << b[i].data()[first];
  }
}

// Relative agreement to `tol` (for reductions at another thread count).
template <class S>
void expect_close(const std::vector<xtgrad::TensorOf<S>>& a, const std::vector<xtgrad::TensorOf<S>>& b, double tol,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size()) << what;
    for (std::size_t k = 0; k < a[i].size(); ++k) {
      const double x = a[i].data()[k], y = b[i].data()[k];
      ASSERT_NEAR(x, y, tol * (1 + std::abs(x))) << what << ", tensor " << i << " element " << k;
    }
  }
}

// 3 threads equal 1 thread bit for bit, and two runs at 3 threads equal each other.
template <class S>
void expect_thread_invariant(const std::string& what, const Op<S>& op, const std::vector<xtgrad::TensorOf<S>>& inputs) {
  const auto one = forward_backward<S>(1, op, inputs);
  const auto three = forward_backward<S>(3, op, inputs);
  expect_identical<S>(one, three, what + " at 1 vs 3 threads");
  expect_identical<S>(three, forward_backward<S>(3, op, inputs), what + " at 3 threads, twice");
}

// A reduction: 3 threads agree with 1 to rounding, and repeat bit for bit.
template <class S>
void expect_reduction_repeats(const std::string& what, const Op<S>& op, const std::vector<xtgrad::TensorOf<S>>& inputs,
                              double tol) {
  const auto one = forward_backward<S>(1, op, inputs);
  const auto three = forward_backward<S>(3, op, inputs);
  expect_close<S>(one, three, tol, what + " at 1 vs 3 threads");
  expect_identical<S>(three, forward_backward<S>(3, op, inputs), what + " at 3 threads, twice");
  expect_identical<S>(one, forward_backward<S>(1, op, inputs), what + " at 1 thread, twice");
}

template <class S>
xtgrad::TensorOf<S> draw(const Shape& shape, std::uint64_t seed, double low, double high) {
  xtgrad::Rng rng(seed);
  return xtgrad::rand_uniform<S>(shape, rng, low, high);
}

template <class S>
void unary_ops_are_thread_invariant() {
  using V = xtgrad::BasicVariable<S>;
  const auto x = draw<S>(kBig, 1, -4, 4), pos = draw<S>(kBig, 2, 0.5, 3);
  const std::vector<std::pair<std::string, std::function<V(const V&)>>> ops = {
      {"exp", [](const V& v) { return xtgrad::exp(v); }},
      {"sigmoid", [](const V& v) { return xtgrad::sigmoid(v); }},
      {"tanh", [](const V& v) { return xtgrad::tanh(v); }},
      {"relu", [](const V& v) { return xtgrad::relu(v); }},
      {"affine", [](const V& v) { return xtgrad::affine(v, 0.5, -1.0); }},
      {"neg", [](const V& v) { return -v; }},
      {"square", [](const V& v) { return xtgrad::square(v); }},
      {"abs", [](const V& v) { return xtgrad::abs(v); }},
      {"add_scalar", [](const V& v) { return v + 2.0; }},
      {"mul_scalar", [](const V& v) { return v * 3.0; }},
      {"rsub", [](const V& v) { return 1.0 - v; }},
      {"softplus", [](const V& v) { return xtgrad::softplus(v); }},
      {"leaky_relu", [](const V& v) { return xtgrad::leaky_relu(v, 0.1); }},
      {"elu", [](const V& v) { return xtgrad::elu(v); }},
      {"gelu", [](const V& v) { return xtgrad::gelu(v); }},
      {"gelu_tanh", [](const V& v) { return xtgrad::gelu(v, xtgrad::GeluApproximation::tanh); }},
      {"silu", [](const V& v) { return xtgrad::silu(v); }},
      {"hardtanh", [](const V& v) { return xtgrad::hardtanh(v); }},
      {"log_sigmoid", [](const V& v) { return xtgrad::log_sigmoid(v); }},
      {"clamp", [](const V& v) { return xtgrad::clamp(v, -1.0, 2.0); }},
      {"expm1", [](const V& v) { return xtgrad::expm1(v); }},
      {"sin", [](const V& v) { return xtgrad::sin(v); }},
      {"cos", [](const V& v) { return xtgrad::cos(v); }},
      {"sign_times", [](const V& v) { return v * xtgrad::sign(v); }},
  };
  for (const auto& [name, f] : ops) {
    expect_thread_invariant<S>(name, [f = f](const std::vector<V>& v) { return f(v[0]); }, {x});
  }
  const std::vector<std::pair<std::string, std::function<V(const V&)>>> positive_ops = {
      {"log", [](const V& v) { return xtgrad::log(v); }},
      {"sqrt", [](const V& v) { return xtgrad::sqrt(v); }},
      {"pow", [](const V& v) { return xtgrad::pow(v, 1.7); }},
      {"rdiv", [](const V& v) { return 2.0 / v; }},
      {"log1p", [](const V& v) { return xtgrad::log1p(v); }},
      {"reciprocal", [](const V& v) { return xtgrad::reciprocal(v); }},
  };
  for (const auto& [name, f] : positive_ops) {
    expect_thread_invariant<S>(name, [f = f](const std::vector<V>& v) { return f(v[0]); }, {pos});
  }
}

TEST(ParallelOps, UnaryOpsAndActivationsAreBitIdenticalAtAnyThreadCount) { unary_ops_are_thread_invariant<double>(); }
TEST(ParallelOps, UnaryOpsAndActivationsAreBitIdenticalAtAnyThreadCountInFloat) {
  unary_ops_are_thread_invariant<float>();
}

TEST(ParallelOps, BinaryOpsAreBitIdenticalAtAnyThreadCount) {
  using V = Variable;
  const Tensor a = uniform(kBig, 3, -2, 2), b = uniform(kBig, 4, 0.5, 2);
  const std::vector<std::pair<std::string, std::function<V(const V&, const V&)>>> ops = {
      {"add", [](const V& x, const V& y) { return x + y; }},
      {"sub", [](const V& x, const V& y) { return x - y; }},
      {"mul", [](const V& x, const V& y) { return x * y; }},
      {"div", [](const V& x, const V& y) { return x / y; }},
      {"maximum", [](const V& x, const V& y) { return xtgrad::maximum(x, y); }},
      {"minimum", [](const V& x, const V& y) { return xtgrad::minimum(x, y); }},
      {"pow", [](const V& x, const V& y) { return xtgrad::pow(y, x); }},
      {"chain", [](const V& x, const V& y) { return xtgrad::exp(x) * y + xtgrad::tanh(x - y); }},
  };
  for (const auto& [name, f] : ops) {
    expect_thread_invariant<Scalar>(name, [f = f](const std::vector<V>& v) { return f(v[0], v[1]); }, {a, b});
  }
}

TEST(ParallelOps, BroadcastGradientsSumToTheBiasShape) {
  // (257, 1001) + (1001,): sum_to splits the columns, each summed as on one thread
  const Tensor x = uniform(kBig, 5, -1, 1), bias = uniform({1001}, 6, -1, 1);
  expect_thread_invariant<Scalar>("add bias", [](const std::vector<Variable>& v) { return v[0] + v[1]; }, {x, bias});
  expect_thread_invariant<Scalar>("mul bias", [](const std::vector<Variable>& v) { return v[0] * v[1]; }, {x, bias});
  // (100003, 3) + (3,): too few columns, so row chunks whose partial sums add in chunk order
  const Tensor tall = uniform({100003, 3}, 7, -1, 1), small = uniform({3}, 8, -1, 1);
  expect_reduction_repeats<Scalar>("add to a tall tensor", [](const std::vector<Variable>& v) { return v[0] + v[1]; },
                                   {tall, small}, 1e-12);
}

TEST(ParallelOps, RowWiseOpsAreBitIdenticalAtAnyThreadCount) {
  const Tensor z = uniform(kBig, 9, -6, 6), wide = uniform({40, 5000}, 10, -6, 6);
  for (int axis : {-1, 0}) {
    const std::string at = " over axis " + std::to_string(axis);
    expect_thread_invariant<Scalar>("softmax" + at,
                                    [axis](const std::vector<Variable>& v) { return xtgrad::softmax(v[0], axis); }, {z});
    expect_thread_invariant<Scalar>(
        "log_softmax" + at, [axis](const std::vector<Variable>& v) { return xtgrad::log_softmax(v[0], axis); }, {z});
  }
  expect_thread_invariant<Scalar>("softmax of long rows",
                                  [](const std::vector<Variable>& v) { return xtgrad::softmax(v[0], 1); }, {wide});
  // the softmax of float rows (the training precision)
  const auto zf = draw<float>(kBig, 11, -6, 6);
  expect_thread_invariant<float>(
      "softmax in float", [](const std::vector<xtgrad::BasicVariable<float>>& v) { return xtgrad::softmax(v[0], 1); },
      {zf});
}

// chunk, narrow and rows copy row blocks forward and add them back into a zeroed (or running)
// gradient, rows split among the threads: the same bits as one thread (y = a + 2b + 3c of the
// three pieces adds three gradients into one), and each piece alone is the plain copy.
template <class S>
void range_pieces_are_thread_invariant() {
  using V = xtgrad::BasicVariable<S>;
  // (4099, 192) split along the last axis as the transformer's q, k, v; (2051, 3, 67) along the middle axis
  const auto wide = draw<S>({4099, 192}, 21, -2, 2), mid = draw<S>({2051, 3, 67}, 22, -2, 2);
  const auto pieces = [](const std::vector<V>& v, int axis) {
    const auto [a, b, c] = xtgrad::chunk<3>(v[0], axis);
    return a + 2.0 * b + 3.0 * c;
  };
  expect_thread_invariant<S>("chunk<3> along the last axis", [&](const std::vector<V>& v) { return pieces(v, -1); },
                             {wide});
  expect_thread_invariant<S>("chunk<3> along axis 1", [&](const std::vector<V>& v) { return pieces(v, 1); }, {mid});
  expect_thread_invariant<S>(
      "narrow and rows",
      [](const std::vector<V>& v) {
        return xtgrad::narrow(v[0], 1, 5, 100) + xtgrad::rows(xtgrad::narrow(v[0], 1, 90, 100), 0, 4099);
      },
      {wide});
  // each piece alone: its values copied, and g at its place in a zeroed gradient
  for (int threads : {1, 3}) {
    for (std::size_t p = 0; p < 3; ++p) {
      const auto got = forward_backward<S>(
          threads, [p](const std::vector<V>& v) { return xtgrad::chunk<3>(v[0], -1)[p]; }, {wide});
      xtgrad::Rng rng(99);  // the upstream gradient forward_backward draws
      const xtgrad::TensorOf<S> g = xtgrad::rand_uniform<S>(xtgrad::shape_of(got[0]), rng, -1.0, 1.0);
      std::size_t wrong = 0;
      for (std::size_t r = 0; r < 4099; ++r) {
        for (std::size_t j = 0; j < 192; ++j) {
          const bool inside = j / 64 == p;
          if (inside && got[0].data()[r * 64 + j % 64] != wide.data()[r * 192 + j]) ++wrong;
          if (got[1].data()[r * 192 + j] != (inside ? g.data()[r * 64 + j % 64] : S(0))) ++wrong;
        }
      }
      EXPECT_EQ(wrong, 0u) << "chunk<3> piece " << p << " at " << threads << " threads";
    }
  }
}

TEST(ParallelOps, RangePiecesAreBitIdenticalAtAnyThreadCount) { range_pieces_are_thread_invariant<double>(); }
TEST(ParallelOps, RangePiecesAreBitIdenticalAtAnyThreadCountInFloat) { range_pieces_are_thread_invariant<float>(); }

TEST(ParallelOps, CrossEntropyGradientsAreBitIdenticalAndTheLossRepeats) {
  const Tensor z = uniform({4099, 100}, 12, -5, 5);
  Tensor y = Tensor::from_shape({4099, 100});
  y.fill(0);
  std::vector<std::size_t> labels(4099);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    labels[i] = (i * 37) % 100;
    y(i, labels[i]) = 1;
  }
  for (bool with_labels : {false, true}) {
    const Op<Scalar> op = [&](const std::vector<Variable>& v) {
      return with_labels ? xtgrad::cross_entropy(v[0], labels) : xtgrad::cross_entropy(v[0], Variable(y));
    };
    const auto one = forward_backward<Scalar>(1, op, {z});
    const auto three = forward_backward<Scalar>(3, op, {z});
    const std::string what = with_labels ? "cross_entropy with labels" : "cross_entropy with targets";
    // the gradient is row-wise; the loss a sum over rows
    expect_identical<Scalar>({one[1]}, {three[1]}, what + ": gradient at 1 vs 3 threads");
    EXPECT_NEAR(one[0].data()[0], three[0].data()[0], 1e-13) << what;
    expect_identical<Scalar>(three, forward_backward<Scalar>(3, op, {z}), what + " at 3 threads, twice");
  }
}

TEST(ParallelOps, ReductionsAgreeToRoundingAndRepeat) {
  const Tensor x = uniform(kBig, 13, -1, 1), long_row = uniform({1, 1 << 20}, 14, -1, 1);
  using V = Variable;
  const std::vector<std::pair<std::string, std::function<V(const V&)>>> ops = {
      {"sum of all", [](const V& v) { return xtgrad::sum(v); }},
      {"mean of all", [](const V& v) { return xtgrad::mean(v); }},
      {"sum over axis 0", [](const V& v) { return xtgrad::sum(v, 0); }},
      {"sum over axis 1", [](const V& v) { return xtgrad::sum(v, 1); }},
      {"mean over axis 1", [](const V& v) { return xtgrad::mean(v, 1, true); }},
      {"max over axis 1", [](const V& v) { return xtgrad::max(v, 1); }},
      {"amax of all", [](const V& v) { return xtgrad::amax(v); }},
      {"logsumexp over axis 0", [](const V& v) { return xtgrad::logsumexp(v, 0); }},
      {"var over axis 1", [](const V& v) { return xtgrad::var(v, 1); }},
  };
  for (const auto& [name, f] : ops) {
    const Op<Scalar> op = [f = f](const std::vector<V>& v) { return f(v[0]); };
    expect_reduction_repeats<Scalar>(name, op, {x}, 1e-12);
    expect_reduction_repeats<Scalar>(name + " of one long row", op, {long_row}, 1e-12);
  }
  // one output per lane: lanes split across the threads, each summed as on one thread
  expect_thread_invariant<Scalar>("sum over the last axis", [](const std::vector<V>& v) { return xtgrad::sum(v[0], 1); },
                                  {x});
  expect_thread_invariant<Scalar>("sum over the first axis",
                                  [](const std::vector<V>& v) { return xtgrad::sum(v[0], 0); }, {x});
  // max / min / amax / var / std / logsumexp over one axis: outputs split across the threads, each
  // reduced in one pass as on one thread (values and gradients the same bits)
  const std::vector<std::pair<std::string, std::function<V(const V&)>>> by_lane = {
      {"max over axis 0", [](const V& v) { return xtgrad::max(v, 0); }},
      {"max over axis 1", [](const V& v) { return xtgrad::max(v, 1); }},
      {"min over axis 0", [](const V& v) { return xtgrad::min(v, 0); }},
      {"amax over axis 1", [](const V& v) { return xtgrad::amax(v, 1); }},
      {"var over axis 0", [](const V& v) { return xtgrad::var(v, 0); }},
      {"var over axis 1", [](const V& v) { return xtgrad::var(v, 1); }},
      {"std over axis 1", [](const V& v) { return xtgrad::std_dev(v, 1); }},
      {"logsumexp over axis 0", [](const V& v) { return xtgrad::logsumexp(v, 0); }},
      {"logsumexp over axis 1", [](const V& v) { return xtgrad::logsumexp(v, 1); }},
  };
  for (const auto& [name, f] : by_lane) {
    expect_thread_invariant<Scalar>(name, [f = f](const std::vector<V>& v) { return f(v[0]); }, {x});
  }
}

// The state after three steps of `make`'s optimizer on a (784, 200) parameter, at `threads`.
template <class Make>
std::vector<Tensor> optimizer_run(int threads, const Make& make) {
  const NumThreadsGuard guard(threads);
  Variable w = Variable::parameter(uniform({784, 200}, 15, -0.1, 0.1), "w");
  auto opt = make(NamedParameters{{"w", w}});
  for (int step = 0; step < 3; ++step) {
    const Variable c(uniform({784, 200}, 16 + std::uint64_t(step), -1, 1));
    opt->zero_grad();
    xtgrad::sum(w * c).backward();
    opt->step();
  }
  std::vector<Tensor> out{w.value()};
  for (const auto& [name, t] : opt->state()) out.push_back(t);
  return out;
}

TEST(ParallelOps, OptimizerStepsAreBitIdenticalAtAnyThreadCount) {
  using namespace xtgrad::nn;
  const std::vector<std::pair<std::string, std::function<std::unique_ptr<BasicOptimizer<Scalar>>(NamedParameters)>>>
      makers = {
          {"SGD", [](NamedParameters p) { return std::make_unique<BasicSGD<Scalar>>(p, 0.1); }},
          {"SGD momentum wd",
           [](NamedParameters p) { return std::make_unique<BasicSGD<Scalar>>(p, 0.1, 0.9, false, 1e-2); }},
          {"SGD nesterov", [](NamedParameters p) { return std::make_unique<BasicSGD<Scalar>>(p, 0.1, 0.9, true); }},
          {"Adam", [](NamedParameters p) { return std::make_unique<BasicAdam<Scalar>>(p, 1e-3); }},
          {"Adam wd", [](NamedParameters p) { return std::make_unique<BasicAdam<Scalar>>(p, 1e-3, 0.9, 0.999, 1e-8, 0.1); }},
          {"AdamW", [](NamedParameters p) { return std::make_unique<BasicAdamW<Scalar>>(p, 1e-3, 0.9, 0.999, 1e-8, 0.1); }},
          {"RMSProp", [](NamedParameters p) { return std::make_unique<BasicRMSProp<Scalar>>(p, 1e-3); }},
          {"RMSProp momentum wd",
           [](NamedParameters p) { return std::make_unique<BasicRMSProp<Scalar>>(p, 1e-3, 0.99, 1e-8, 0.9, 1e-2); }},
      };
  for (const auto& [name, make] : makers) {
    const auto one = optimizer_run(1, make), three = optimizer_run(3, make);
    expect_identical<Scalar>(one, three, name + " at 1 vs 3 threads");
    expect_identical<Scalar>(three, optimizer_run(3, make), name + " at 3 threads, twice");
  }
}

// Adam's step runs the elements of all parameters in one parallel job (ranges may cut a
// parameter anywhere on a 64-element boundary): many parameters of odd sizes, three steps of
// AdamW and of Adam with L2 weight decay, in float and double: the same bits at 1 and 3
// threads, and a plain loop's values.
template <class S>
void adam_over_many_parameters() {
  using V = xtgrad::BasicVariable<S>;
  using T = xtgrad::TensorOf<S>;
  const std::vector<Shape> shapes = {{1}, {63}, {64}, {65}, {3, 333}, {40000}, {784, 200}, {7}};
  const auto grads_at = [&](int step) {
    std::vector<T> g;
    for (std::size_t i = 0; i < shapes.size(); ++i) g.push_back(draw<S>(shapes[i], 40 + 10 * std::uint64_t(step) + i, -1, 1));
    return g;
  };
  for (bool decoupled : {true, false}) {
    const double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
    const auto run = [&](int threads) {
      const NumThreadsGuard guard(threads);
      xtgrad::NamedParametersOf<S> named;
      std::vector<V> ws;
      for (std::size_t i = 0; i < shapes.size(); ++i) {
        ws.push_back(V::parameter(draw<S>(shapes[i], 30 + i, -0.5, 0.5), "p" + std::to_string(i)));
        named.emplace_back("p" + std::to_string(i), ws.back());
      }
      std::unique_ptr<xtgrad::nn::BasicOptimizer<S>> opt;
      if (decoupled) {
        opt = std::make_unique<xtgrad::nn::BasicAdamW<S>>(named, lr, b1, b2, eps, wd);
      } else {
        opt = std::make_unique<xtgrad::nn::BasicAdam<S>>(named, lr, b1, b2, eps, wd);
      }
      for (int step = 0; step < 3; ++step) {
        const auto g = grads_at(step);
        opt->zero_grad();
        V loss = xtgrad::sum(ws[0] * V(g[0]));
        for (std::size_t i = 1; i < ws.size(); ++i) loss = loss + xtgrad::sum(ws[i] * V(g[i]));
        loss.backward();
        opt->step();
      }
      std::vector<T> out;
      for (const auto& w : ws) out.push_back(w.value());
      for (const auto& [name, t] : opt->state()) out.push_back(t);
      return out;
    };
    const std::string what = decoupled ? "AdamW" : "Adam with weight decay";
    const auto one = run(1), three = run(3);
    expect_identical<S>(one, three, what + " over many parameters at 1 vs 3 threads");
    expect_identical<S>(three, run(3), what + " over many parameters at 3 threads, twice");
    // the plain loop, in double: w, m, v per element (m, v start at 0; the gradient of sum(w·c) is c)
    const double tol = std::is_same_v<S, float> ? 1e-5 : 1e-12;
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      const T w0 = draw<S>(shapes[i], 30 + i, -0.5, 0.5);
      std::vector<double> w(w0.begin(), w0.end()), m(w.size(), 0.0), v(w.size(), 0.0);
      for (int step = 0; step < 3; ++step) {
        const T g = grads_at(step)[i];
        const double t = step + 1, bias1 = 1 - std::pow(b1, t), bias2 = 1 - std::pow(b2, t);
        for (std::size_t k = 0; k < w.size(); ++k) {
          double gk = double(g.data()[k]);
          if (decoupled) {
            w[k] *= 1 - lr * wd;
          } else {
            gk += wd * w[k];
          }
          m[k] = b1 * m[k] + (1 - b1) * gk;
          v[k] = b2 * v[k] + (1 - b2) * gk * gk;
          w[k] -= lr / bias1 * m[k] / (std::sqrt(v[k]) / std::sqrt(bias2) + eps);
        }
      }
      for (std::size_t k = 0; k < w.size(); ++k) {
        if (std::abs(double(one[i].data()[k]) - w[k]) > tol * (1 + std::abs(w[k]))) ++wrong;
      }
    }
    EXPECT_EQ(wrong, 0u) << what << ": values away from the plain loop's";
  }
}

TEST(ParallelOps, AdamOverManyParametersIsBitIdenticalAtAnyThreadCount) { adam_over_many_parameters<double>(); }
TEST(ParallelOps, AdamOverManyParametersIsBitIdenticalAtAnyThreadCountInFloat) {
  adam_over_many_parameters<float>();
}

TEST(ParallelOps, PenaltiesAndTheProximalStep) {
  const Tensor w = away_from_zero({784, 200}, 17, 0.0, 0.2);
  for (const auto& [name, f] : std::vector<std::pair<std::string, Variable (*)(const Variable&)>>{
           {"l1", &xtgrad::l1<Scalar>}, {"squared_l2", &xtgrad::squared_l2<Scalar>}}) {
    const Op<Scalar> op = [f = f](const std::vector<Variable>& v) { return f(v[0]); };
    expect_reduction_repeats<Scalar>(name, op, {w}, 1e-13);
    const auto one = forward_backward<Scalar>(1, op, {w}), three = forward_backward<Scalar>(3, op, {w});
    expect_identical<Scalar>({one[1]}, {three[1]}, name + ": gradient at 1 vs 3 threads");
  }
  auto shrink = [&](int threads) {
    const NumThreadsGuard guard(threads);
    Tensor t = w;
    const std::size_t zeros = xtgrad::soft_threshold(t, 0.05);
    return std::make_pair(t, zeros);
  };
  const auto one = shrink(1), three = shrink(3);
  EXPECT_EQ(one.second, three.second);
  EXPECT_GT(one.second, 0u);
  expect_identical<Scalar>({one.first}, {three.first}, "soft_threshold at 1 vs 3 threads");
}

}  // namespace
}  // namespace xtgrad_test
