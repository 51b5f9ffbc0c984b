// grad() and backward(create_graph): returned gradients, PyTorch's semantics (allow_unused,
// retain_graph defaulting to create_graph, .grad untouched), gradients with history, and the
// option forms the docs show.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_util.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::expect_throws_with;
using xtgrad_test::expect_values;
using xtgrad_test::make_tensor;

TEST(Grad, ReturnsGradientsAndLeavesDotGradAlone) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable w = Variable::parameter(make_tensor({2}, {3, 4}));
  sum(x * w).backward();  // x.grad = w = (3, 4)
  const Variable y = sum(x * x * w);
  const std::vector<Variable> g = grad({y}, {x});  // the brace form compiles
  ASSERT_EQ(g.size(), 1u);
  expect_values(g[0].value(), {2}, {6, 16});  // 2xw
  EXPECT_FALSE(g[0].requires_grad());
  expect_values(x.grad(), {2}, {3, 4});  // unchanged
  expect_values(w.grad(), {2}, {1, 2});  // unchanged, though w got a gradient in the sweep
}

TEST(Grad, GradientOfAnInteriorValue) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  const Variable h = x * 3.0;
  const Variable y = sum(h * h);
  expect_values(grad({y}, {h})[0].value(), {2}, {6, 12});  // 2h
}

TEST(Grad, SeveralOutputsWithUpstreamGradients) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  const Variable a = x * 2.0, b = square(x);
  const std::vector<Variable> g =
      grad({a, b}, {x}, {.grad_outputs = {make_tensor({2}, {1, 1}), make_tensor({2}, {10, 100})}});
  expect_values(g[0].value(), {2}, {2 + 20, 2 + 400});  // 2·1 + 2x·u
}

TEST(Grad, UnusedInputIsAnErrorUnlessAllowed) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable unused = Variable::parameter(make_tensor({3}, {0, 0, 0}));
  const Variable y = sum(x * x);
  expect_throws_with<std::invalid_argument>([&] { grad({y}, {x, unused}, {.retain_graph = true}); },
                                            {"grad", "input 1", "(3)", "allow_unused"});
  // issue 22 §3.5: unused is not zero. PyTorch returns None; here an undefined Variable.
  const std::vector<Variable> g = grad({y}, {x, unused}, GradOptions().set_retain_graph(true).set_allow_unused(true));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_TRUE(g[0].defined());
  EXPECT_FALSE(g[1].defined());
  // materialize_grads gives zeros instead (PyTorch's option of that name)
  const std::vector<Variable> z = grad({y}, {x, unused}, GradOptions().set_materialize_grads(true));
  expect_values(z[1].value(), {3}, {0, 0, 0});
}

TEST(Grad, AUsedInputWhoseGradientIsZeroGetsZerosNotUndefined) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable w = Variable::parameter(make_tensor({2}, {3, 4}));
  const Variable y = sum(x * 0.0 + w);  // y depends on x, with gradient 0
  const std::vector<Variable> g = grad({y}, {x, w}, GradOptions().set_allow_unused(true));
  ASSERT_TRUE(g[0].defined());
  expect_values(g[0].value(), {2}, {0, 0});
  expect_values(g[1].value(), {2}, {1, 1});
}

TEST(Grad, OptionsHaveChainableSettersForCpp17) {
  Variable x = Variable::parameter(make_tensor({1}, {2}));
  const Variable y = sum(x * x * x);
  const Variable g = grad({y}, {x}, GradOptions().set_create_graph(true))[0];  // 3x² with history
  expect_values(g.value(), {1}, {12});
  const Variable h =
      grad({g}, {x}, GradOptions().set_retain_graph(true).set_grad_outputs({make_tensor({1}, {2})}))[0];  // 2·6x
  expect_values(h.value(), {1}, {24});
  y.backward(BackwardOptions().set_retain_graph(true));
  y.backward(BackwardOptions().set_retain_graph(false));
  expect_values(x.grad(), {1}, {24});
  BackwardOptions o;  // or the public fields
  o.create_graph = true;
  EXPECT_TRUE(o.create_graph);
}

TEST(Grad, ErrorsNameTheOutputOrInput) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  const Variable c(make_tensor({2}, {1, 2}));
  expect_throws_with<std::invalid_argument>([&] { grad({sum(x)}, {c}); }, {"input 0", "does not require grad"});
  expect_throws_with<std::invalid_argument>([&] { grad({x * 2.0}, {x}); }, {"output 0", "one-element", "(2)"});
  expect_throws_with<std::invalid_argument>([&] { grad({sum(c)}, {x}); }, {"output 0", "does not require grad"});
}

TEST(Grad, RetainGraphDefaultsToCreateGraph) {
  Variable x = Variable::parameter(make_tensor({1}, {2}));
  const Variable y = sum(x * x * x);
  grad({y}, {x});
  expect_throws_with<std::logic_error>([&] { grad({y}, {x}); }, {"retain_graph"});
  const Variable z = sum(x * x * x);
  grad({z}, {x}, {.create_graph = true});
  EXPECT_NO_THROW(grad({z}, {x}));  // create_graph kept it
}

TEST(Grad, SecondDerivativeOfACubic) {
  Variable x = Variable::parameter(make_tensor({2}, {1.5, -2}));
  const Variable y = sum(x * x * x);
  const Variable dy = grad({y}, {x}, {.create_graph = true})[0];  // 3x²
  EXPECT_TRUE(dy.requires_grad());
  expect_values(dy.value(), {2}, {6.75, 12});
  const Variable d2 = grad({sum(dy)}, {x})[0];  // 6x
  expect_values(d2.value(), {2}, {9, -12});
}

TEST(Grad, BackwardWithCreateGraphLeavesGradientsWithHistory) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  sum(x * x * x).backward({.create_graph = true});
  expect_values(x.grad(), {2}, {3, 12});
  const Variable g = x.grad_variable();
  EXPECT_TRUE(g.requires_grad());
  // a penalty on the gradient: d/dx Σ(3x²)² = 36x³
  const Variable penalty = sum(g * g);
  x.zero_grad();  // breaks the leaf → gradient → leaf cycle; the penalty keeps the graph
  penalty.backward();
  expect_values(x.grad(), {2}, {36, 288});
}

TEST(Grad, BackwardWithCreateGraphAddsToAnEarlierGradient) {
  Variable x = Variable::parameter(make_tensor({1}, {2}));
  sum(x * 5.0).backward();                              // 5, no history
  sum(x * x).backward({.create_graph = true});         // + 2x
  expect_values(x.grad(), {1}, {9});
  const Variable g = x.grad_variable();
  expect_values(grad({sum(g)}, {x})[0].value(), {1}, {2});
  x.zero_grad();
}

TEST(Grad, OptionFormsOfTheDocsCompile) {
  Variable x = Variable::parameter(make_tensor({1}, {2}));
  const Variable y = sum(x * x);
  y.backward({.retain_graph = true});
  y.backward(make_tensor({}, {1}), {.retain_graph = true});
  y.backward(BackwardOptions{true});
  expect_values(x.grad(), {1}, {12});
}

// d/dw (3·w⁰ + 2·w¹) = 2 at w = 0: p·wᵖ⁻¹ is 0·∞ = NaN at p = 0, w = 0 unless p = 0 is special.
TEST(Pow, ZeroExponentHasAZeroGradientAtZero) {
  Variable w = Variable::parameter(make_tensor({1}, {0}));
  const Variable y = sum(3.0 * pow(w, 0.0) + 2.0 * pow(w, 1.0));
  EXPECT_EQ(y.item(), 3.0);
  const Variable g = grad({y}, {w}, {.create_graph = true})[0];
  expect_values(g.value(), {1}, {2});
  expect_values(grad({sum(g)}, {w}, GradOptions().set_materialize_grads(true))[0].value(), {1}, {0});
  y.backward();
  expect_values(w.grad(), {1}, {2});
}

// A gradient of a gradient through a long chain: the engine builds and walks it without recursion.
TEST(Grad, DoubleBackwardThroughALongChainDoesNotRecurse) {
  Variable x = Variable::parameter(make_tensor({1}, {1}));
  Variable h = x;
  for (int i = 0; i < 20000; ++i) h = h * 1.0 + 0.0;
  const Variable y = sum(h * h);
  const Variable g = grad({y}, {x}, {.create_graph = true})[0];  // 2x
  expect_values(g.value(), {1}, {2});
  expect_values(grad({sum(g)}, {x})[0].value(), {1}, {2});
}

}  // namespace
}  // namespace xtgrad_test
