// Second derivatives of the ops added with the ops table (elementwise_math, activations_extra):
// gradgradcheck in double precision, inputs away from kinks. And an op whose backward is
// first-order only (user code): a create_graph sweep through it is a clear error naming the op,
// never a silently wrong or missing second derivative.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using Vars = std::vector<Variable>;
using xtgrad_test::away_from_zero;
using xtgrad_test::expect_gradgradcheck;
using xtgrad_test::uniform;

Tensor a23() { return uniform({2, 3}, 21, -1.5, 1.5); }
Tensor b23() { return uniform({2, 3}, 22, -1.5, 1.5); }
Tensor pos23() { return uniform({2, 3}, 23, 0.5, 2.0); }

// ---- elementwise_math ---------------------------------------------------------------------

TEST(GradgradcheckExtra, Clamp) {
  // |x| ∈ [0.2, 1.5) against bounds ±0.9 and 0.1: no element within 0.1 of a bound
  const Tensor x = away_from_zero({3, 4}, 24, 0.2, 0.8);
  expect_gradgradcheck([](const Vars& v) { return square(clamp(v[0] * 1.5, -0.9, 1.05)) * v[0]; }, {x});
  expect_gradgradcheck([](const Vars& v) { return clamp(v[0], std::nullopt, 0.1) * v[0]; }, {x});
}
TEST(GradgradcheckExtra, Where) {
  const Tensor cond = Tensor{{1.0, 0.0, 1.0}, {0.0, 0.0, 1.0}};
  expect_gradgradcheck([&cond](const Vars& v) { return square(xtgrad::where(cond, v[0] * v[1], exp(v[1]))); }, {a23(), b23()});
  expect_gradgradcheck([&cond](const Vars& v) { return xtgrad::where(cond, square(v[0]), v[1]); },
                       {a23(), uniform({3}, 25, -1, 1)});
}
TEST(GradgradcheckExtra, MaximumMinimum) {
  // a and b differ by at least 0.2 everywhere: b = a ± d
  const Tensor a = a23();
  const Tensor b = a + away_from_zero({2, 3}, 26);
  expect_gradgradcheck([](const Vars& v) { return square(maximum(v[0], v[1])) * v[0]; }, {a, b});
  expect_gradgradcheck([](const Vars& v) { return square(minimum(v[0], v[1])) * v[1]; }, {a, b});
}
TEST(GradgradcheckExtra, Log1pExpm1) {
  expect_gradgradcheck([](const Vars& v) { return log1p(v[0]); }, {pos23()});
  expect_gradgradcheck([](const Vars& v) { return expm1(v[0]) * v[0]; }, {a23()});
}
TEST(GradgradcheckExtra, SinCos) {
  expect_gradgradcheck([](const Vars& v) { return sin(v[0]) * v[0]; }, {a23()});
  expect_gradgradcheck([](const Vars& v) { return cos(v[0] * v[0]); }, {a23()});
}
TEST(GradgradcheckExtra, PowTensorExponent) {
  expect_gradgradcheck([](const Vars& v) { return pow(v[0], v[1]); }, {pos23(), b23()});
  expect_gradgradcheck([](const Vars& v) { return pow(v[0], v[1]); }, {pos23(), uniform({3}, 27, -1, 2)});
}
TEST(GradgradcheckExtra, Reciprocal) {
  expect_gradgradcheck([](const Vars& v) { return reciprocal(v[0]); }, {pos23()});
}

// ---- activations_extra --------------------------------------------------------------------

TEST(GradgradcheckExtra, Softplus) {
  expect_gradgradcheck([](const Vars& v) { return softplus(v[0]); }, {a23()});
  expect_gradgradcheck([](const Vars& v) { return softplus(v[0], 2.0); }, {a23()});
  // above the threshold softplus is x: its second derivative is 0 there
  expect_gradgradcheck([](const Vars& v) { return softplus(v[0], 1.0, 0.5) * v[0]; }, {away_from_zero({2, 3}, 28, 0.6, 1.5)});
}
TEST(GradgradcheckExtra, LeakyRelu) {
  expect_gradgradcheck([](const Vars& v) { return leaky_relu(v[0], 0.1) * v[0]; }, {away_from_zero({2, 3}, 29)});
}
TEST(GradgradcheckExtra, Elu) {
  expect_gradgradcheck([](const Vars& v) { return elu(v[0], 1.5); }, {away_from_zero({2, 3}, 30)});
}
TEST(GradgradcheckExtra, Gelu) {
  expect_gradgradcheck([](const Vars& v) { return gelu(v[0]); }, {a23()});
  expect_gradgradcheck([](const Vars& v) { return gelu(v[0], GeluApproximation::tanh); }, {a23()});
}
TEST(GradgradcheckExtra, Silu) { expect_gradgradcheck([](const Vars& v) { return silu(v[0]); }, {a23()}); }
TEST(GradgradcheckExtra, Hardtanh) {
  expect_gradgradcheck([](const Vars& v) { return hardtanh(v[0] * 1.5, -1.0, 0.9) * v[0]; }, {away_from_zero({2, 3}, 31, 0.2, 0.55)});
  expect_gradgradcheck([](const Vars& v) { return square(hardtanh(v[0], -0.1, 0.1)); }, {away_from_zero({2, 3}, 32)});
}
TEST(GradgradcheckExtra, LogSigmoid) { expect_gradgradcheck([](const Vars& v) { return log_sigmoid(v[0]); }, {a23()}); }

// A ported op's create_graph gradient equals its first-order one (the same formula).
TEST(GradgradcheckExtra, CreateGraphGivesTheFirstOrderGradient) {
  const Tensor x = a23();
  auto f = [](const Variable& v) { return sum(gelu(v) * silu(v) + softplus(v) + elu(v) + sin(v)); };
  Variable a(x, true), b(x, true);
  const Variable ga = grad({f(a)}, {a})[0];
  const Variable gb = grad({f(b)}, {b}, {.create_graph = true})[0];
  xtgrad_test::expect_tensor_near(gb.value(), ga.value(), 1e-14);
}

// ---- reductions over several axes, max/min, prod, var/std_dev, logsumexp -------------------

TEST(GradgradcheckExtra, SumMeanOverAxisLists) {
  const Tensor x = uniform({2, 3, 2}, 40, -1.5, 1.5);
  expect_gradgradcheck([](const Vars& v) { return square(sum(v[0] * v[0], Axes{0, 2})); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(mean(v[0] * v[0], Axes{1}, true)); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(sum(v[0] * v[0], Axes::all())); }, {x});
}
TEST(GradgradcheckExtra, MaxMinAmaxAmin) {
  // distinct values (no ties): a permutation of spaced numbers
  const Tensor x = Tensor{{0.3, -1.1, 0.9}, {1.4, -0.2, 0.6}};
  expect_gradgradcheck([](const Vars& v) { return square(max(v[0])); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(min(v[0], 1)) * 2.0; }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(max(v[0], 0, true)); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(amax(v[0], Axes{1})); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(amin(v[0], Axes{0, 1})); }, {x});
}
TEST(GradgradcheckExtra, Prod) {
  const Tensor x = away_from_zero({2, 3}, 41, 0.5, 1.5);
  expect_gradgradcheck([](const Vars& v) { return prod(v[0]); }, {x});
  expect_gradgradcheck([](const Vars& v) { return prod(v[0], 1); }, {x});
  expect_gradgradcheck([](const Vars& v) { return prod(v[0], Axes{0}, true); }, {x});
}
TEST(GradgradcheckExtra, ProdWithAZeroIsAClearErrorUnderCreateGraph) {
  Variable x(Tensor{1.0, 0.0, 2.0}, true);
  EXPECT_NO_THROW(grad({prod(x)}, {x}));
  try {
    grad({prod(x)}, {x}, {.create_graph = true});
    ADD_FAILURE() << "no error";
  } catch (const std::logic_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("prod: ", 0), 0U) << e.what();
  }
}
TEST(GradgradcheckExtra, VarStdDev) {
  const Tensor x = uniform({3, 4}, 42, -1.5, 1.5);
  expect_gradgradcheck([](const Vars& v) { return var(v[0]); }, {x});
  expect_gradgradcheck([](const Vars& v) { return var(v[0], 1, Correction(0)); }, {x});
  expect_gradgradcheck([](const Vars& v) { return std_dev(v[0], 0); }, {x});
  expect_gradgradcheck([](const Vars& v) { return std_dev(v[0], Axes{0, 1}, Correction(1), true); }, {x});
  // biased, one axis kept; and lanes far from 0 (each is shifted by its first element)
  expect_gradgradcheck([](const Vars& v) { return std_dev(v[0], 1, Correction(0), true); }, {x});
  expect_gradgradcheck([](const Vars& v) { return std_dev(v[0] + 1e3, Axes{1}, Correction(1)) * sum(var(v[0] - 1e3, 0)); },
                       {x});
}
TEST(GradgradcheckExtra, Logsumexp) {
  const Tensor x = uniform({3, 4}, 43, -1.5, 1.5);
  expect_gradgradcheck([](const Vars& v) { return logsumexp(v[0]); }, {x});
  expect_gradgradcheck([](const Vars& v) { return logsumexp(v[0], 1); }, {x});
  expect_gradgradcheck([](const Vars& v) { return logsumexp(v[0], Axes{0}, true); }, {x});
}

// ---- shape_ops, indexing, matmul_nd -------------------------------------------------------

TEST(GradgradcheckExtra, SqueezeUnsqueezeFlatten) {
  expect_gradgradcheck([](const Vars& v) { return square(flatten(unsqueeze(v[0], 1))) * squeeze(unsqueeze(v[0], 0)).value().size(); },
                       {a23()});
}
TEST(GradgradcheckExtra, PermuteSwapAxes) {
  const Tensor x = uniform({2, 3, 2}, 44, -1.5, 1.5);
  expect_gradgradcheck([](const Vars& v) { return square(permute(v[0], {2, 0, 1})) * permute(v[0], {2, 0, 1}); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(swap_axes(v[0], 0, 2)); }, {x});
}
TEST(GradgradcheckExtra, ConcatStack) {
  expect_gradgradcheck([](const Vars& v) { return square(concat({v[0], v[1] * v[0]}, 1)); }, {a23(), b23()});
  expect_gradgradcheck([](const Vars& v) { return square(stack({v[0], v[1] * v[0]}, 1)); }, {a23(), b23()});
  expect_gradgradcheck([](const Vars& v) { return square(concat({v[0], v[1]}, 0)); }, {a23(), b23()});
}
TEST(GradgradcheckExtra, SliceNarrowSplit) {
  expect_gradgradcheck([](const Vars& v) { return square(slice(v[0], 1, -2, 3, 1)) * 0.5 + square(slice(v[0], 1, 0, 3, 2)); },
                       {a23()});
  expect_gradgradcheck([](const Vars& v) { return square(narrow(v[0], 0, 1, 1)); }, {a23()});
  expect_gradgradcheck([](const Vars& v) {
    auto parts = split(v[0], 2, 1);
    return sum(square(parts[0])) * sum(parts[1]);
  }, {a23()});
}
TEST(GradgradcheckExtra, IndexSelectGatherScatterAdd) {
  expect_gradgradcheck([](const Vars& v) { return square(index_select(v[0], 1, {2, 0, 2})); }, {a23()});
  const Tensor index = Tensor{{0.0, 2.0}, {1.0, 1.0}};
  expect_gradgradcheck([&index](const Vars& v) { return square(gather(v[0], 1, index)); }, {a23()});
  expect_gradgradcheck([&index](const Vars& v) { return square(scatter_add(v[0], 1, index, v[1])); },
                       {a23(), uniform({2, 2}, 45, -1, 1)});
}
TEST(GradgradcheckExtra, MatmulNd) {
  const Tensor a = uniform({2, 2, 3}, 46, -1, 1), b = uniform({3, 2}, 47, -1, 1);
  expect_gradgradcheck([](const Vars& v) { return square(matmul_nd(v[0], v[1])); }, {a, b});
  expect_gradgradcheck([](const Vars& v) { return square(matmul_nd(v[0], v[1])); }, {uniform({3}, 48, -1, 1), b});
  expect_gradgradcheck([](const Vars& v) { return square(matmul_nd(v[0], v[1])); }, {a, uniform({3}, 49, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return square(matmul_nd(v[0], v[1])); },
                       {uniform({3}, 50, -1, 1), uniform({3}, 51, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return square(matmul_nd(v[0], v[1])); },
                       {uniform({2, 1, 2, 3}, 52, -1, 1), uniform({3, 3, 2}, 53, -1, 1)});
}

// ---- losses_extra -------------------------------------------------------------------------

TEST(GradgradcheckExtra, NllLoss) {
  BasicNllLossOptions<Scalar> o;
  o.weight = Tensor{0.5, 1.0, 2.0};
  o.ignore_index = 1;
  expect_gradgradcheck([&o](const Vars& v) { return nll_loss(log_softmax(v[0]), {0, 1}, o); }, {a23()});
  o.reduction = Reduction::none;
  expect_gradgradcheck([&o](const Vars& v) { return nll_loss(log_softmax(v[0]), {2, 0}, o); }, {a23()});
}
TEST(GradgradcheckExtra, CrossEntropyOptions) {
  BasicCrossEntropyOptions<Scalar> o;
  o.weight = Tensor{0.5, 1.0, 2.0};
  o.label_smoothing = 0.2;
  expect_gradgradcheck([&o](const Vars& v) { return cross_entropy(v[0], std::vector<std::size_t>{0, 2}, o); }, {a23()});
  o.reduction = Reduction::none;
  o.ignore_index = 0;
  expect_gradgradcheck([&o](const Vars& v) { return cross_entropy(v[0], std::vector<std::size_t>{0, 2}, o); }, {a23()});
  o.reduction = Reduction::sum;
  expect_gradgradcheck([&o](const Vars& v) { return cross_entropy(v[0], std::vector<std::size_t>{1, 2}, o); }, {a23()});
}
TEST(GradgradcheckExtra, BceWithLogits) {
  BasicBceWithLogitsOptions<Scalar> o;
  o.weight = Tensor{0.5, 1.0, 2.0};
  o.pos_weight = Tensor{1.5, 1.0, 0.7};
  expect_gradgradcheck([&o](const Vars& v) { return binary_cross_entropy_with_logits(v[0], v[1], o); },
                       {a23(), uniform({2, 3}, 54, 0.1, 0.9)});
  o.reduction = Reduction::none;
  expect_gradgradcheck([&o](const Vars& v) { return binary_cross_entropy_with_logits(v[0], v[1], o); },
                       {a23(), uniform({2, 3}, 55, 0.1, 0.9)});
}
TEST(GradgradcheckExtra, PairLosses) {
  // d = x − y away from 0 and from the huber/smooth-l1 breakpoints (|d| ∈ [0.2, 0.8) ∪ ... )
  const Tensor y = b23();
  const Tensor x = y + away_from_zero({2, 3}, 56, 0.2, 0.8);
  const Tensor x_far = y + away_from_zero({2, 3}, 57, 1.2, 1.8);
  expect_gradgradcheck([](const Vars& v) { return mse_loss(v[0], v[1]); }, {x, y});
  expect_gradgradcheck([](const Vars& v) { return mse_loss(v[0], v[1], Reduction::none); }, {x, uniform({3}, 58, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return l1_loss(v[0] * v[0], v[1], Reduction::sum); }, {x, y});
  expect_gradgradcheck([](const Vars& v) { return huber_loss(v[0], v[1]); }, {x, y});
  expect_gradgradcheck([](const Vars& v) { return huber_loss(v[0] * v[0], v[1], 1.0, Reduction::none); }, {x_far, y});
  expect_gradgradcheck([](const Vars& v) { return smooth_l1_loss(v[0], v[1]); }, {x, y});
  expect_gradgradcheck([](const Vars& v) { return smooth_l1_loss(v[0] * v[0], v[1], 0.5, Reduction::sum); }, {x_far, y});
}
TEST(GradgradcheckExtra, KlDiv) {
  const Tensor t = uniform({2, 3}, 59, 0.1, 0.9);
  expect_gradgradcheck([](const Vars& v) { return kl_div(log_softmax(v[0]), v[1]); }, {a23(), t});
  expect_gradgradcheck([](const Vars& v) { return kl_div(log_softmax(v[0]), v[1], Reduction::batch_mean, true); },
                       {a23(), a23()});
  // t = 0 somewhere: the gradient to t is 0 there, and the second derivatives stay finite
  const Tensor t0 = Tensor{{0.0, 0.5, 0.5}, {0.2, 0.0, 0.8}};
  Variable x(a23(), true), tv(t0, true);
  const auto g = grad({kl_div(log_softmax(x), tv, Reduction::sum)}, {x, tv}, {.create_graph = true});
  EXPECT_EQ(g[1].value()(0, 0), 0.0);
  const auto h = grad({sum(square(g[1]))}, {x, tv});
  for (const Variable& v : h) {
    for (std::size_t k = 0; k < v.value().size(); ++k) EXPECT_TRUE(std::isfinite(v.value().data()[k]));
  }
}

// ---- first-order ops: create_graph through them is an error naming the op ---------------------
// (conv2d, the pools, batch/layer norm and embedding have create_graph paths:
// tests/ops/test_gradgradcheck_conv.cpp)

// grad(create_graph) of Σ f(x) must throw std::logic_error whose message starts with `op`.
void expect_first_order_only(const std::string& op, const std::function<Variable(const Variable&)>& f,
                             const Tensor& x) {
  Variable v(x, true);
  EXPECT_NO_THROW(grad({sum(f(v))}, {v}));  // the first derivative works
  try {
    grad({sum(f(v))}, {v}, {.create_graph = true});
    ADD_FAILURE() << op << ": create_graph through a first-order op did not throw";
  } catch (const std::logic_error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(op + ": ", 0), 0U) << msg;
  }
}

// An op written with add_expr_to_parent on self.grad only (as user code may do): the guard in
// add_expr_to_parent names it.
Variable first_order_twice(const Variable& x) {
  return make_result("first_order_twice", evaluate(x.value() * 2.0), {x},
                     [](Node& self) { add_expr_to_parent(self, 0, self.grad * 2.0); });
}
TEST(FirstOrderOnly, AddExprToParentRefusesCreateGraph) {
  expect_first_order_only("first_order_twice", [](const Variable& v) { return square(first_order_twice(v)); }, a23());
  Variable x(a23(), true);
  try {
    grad({sum(square(first_order_twice(x)))}, {x}, {.create_graph = true});
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("first-order only"), std::string::npos) << e.what();
  }
}

// ---- issue 22 §3.8: norm, masked_fill, tril/triu, mish, relu6, rows ----
TEST(GradgradcheckExtra, NewOpsOfIssue22) {
  const Tensor x = away_from_zero({3, 4}, 41, 0.3, 1.5);
  for (double p : {1.0, 2.0, 3.0, std::numeric_limits<double>::infinity()}) {
    expect_gradgradcheck([p](const Vars& v) { return norm(v[0], p, 1); }, {x});
  }
  const Tensor mask = Tensor{1.0, 0.0, 0.0, 1.0};
  expect_gradgradcheck([&mask](const Vars& v) { return square(masked_fill(v[0], mask, 0.5)); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(tril(v[0], 1)) + triu(v[0] * v[0], -1); }, {x});
  expect_gradgradcheck([](const Vars& v) { return mish(v[0]); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(relu6(v[0] + 2.0)); }, {x});
  expect_gradgradcheck([](const Vars& v) { return square(v[0].rows(1, 3)); }, {x});
}

}  // namespace
}  // namespace xtgrad_test
