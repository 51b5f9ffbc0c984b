// Second derivatives of conv2d, the poolings, batch/layer norm and embedding (their create_graph
// paths): gradgradcheck in double precision, inputs away from ties, an upstream factor u as an
// input so that the dependence on the upstream gradient is checked too; the create_graph
// gradient's value against the fast path's; and, for each family, a deliberately drifted double
// backward that gradgradcheck must reject.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using Vars = std::vector<Variable>;
using xtgrad_test::expect_gradgradcheck;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::uniform;

// grad(Σ f(x)·R) of every input with create_graph equals the one without (same first derivative).
void expect_create_graph_matches(const GradcheckFunction& f, const std::vector<Tensor>& inputs) {
  Vars a, b;
  for (const Tensor& t : inputs) {
    a.emplace_back(t, true);
    b.emplace_back(t, true);
  }
  const Variable ya = f(a), yb = f(b);
  const Tensor r = uniform(shape_of(ya.value()), 99, -1, 1);
  const Vars plain = grad({ya}, a, {.grad_outputs = {r}});
  const Vars with_graph = grad({yb}, b, {.create_graph = true, .grad_outputs = {r}});
  ASSERT_EQ(plain.size(), with_graph.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    SCOPED_TRACE("input " + std::to_string(i));
    expect_tensor_near(with_graph[i].value(), plain[i].value(), 1e-12);
  }
}

// ---- conv2d ---------------------------------------------------------------------------------

Conv2dOptions strided_grouped() {
  Conv2dOptions o;
  o.stride = {2, 1};
  o.padding = {1, 2};
  o.dilation = {2, 1};
  o.groups = 2;
  return o;
}
// x (2, 4, 7, 6), w (6, 2, 3, 2), b (6) → y (2, 6, 3, 9) with strided_grouped()
Tensor conv_x() { return uniform({2, 4, 7, 6}, 40, -1, 1); }
Tensor conv_w() { return uniform({6, 2, 3, 2}, 41, -1, 1); }
Tensor conv_b() { return uniform({6}, 42, -1, 1); }

TEST(GradgradcheckConv, Conv2dStridePaddingDilationGroups) {
  const Conv2dOptions o = strided_grouped();
  // y² makes every second derivative (x–x, x–w, w–w, b–·) non-zero
  expect_gradgradcheck([o](const Vars& v) { return square(conv2d(v[0], v[1], v[2], o)); }, {conv_x(), conv_w(), conv_b()});
}

TEST(GradgradcheckConv, Conv2dUpstreamGradient) {
  // y·u: the gradients of x and w are linear in the upstream gradient u; their derivatives
  // with respect to u (and the mixed x–w terms) are checked
  const Conv2dOptions o = strided_grouped();
  expect_gradgradcheck([o](const Vars& v) { return conv2d(v[0], v[1], v[2], o) * v[3]; },
                       {conv_x(), conv_w(), conv_b(), uniform({2, 6, 3, 9}, 43, -1, 1)});
}

TEST(GradgradcheckConv, Conv2dPlainAndWithoutBias) {
  // LeNet's layout: stride 1, no padding, one group, several samples; and the overload without bias
  expect_gradgradcheck([](const Vars& v) { return square(conv2d(v[0], v[1], v[2])); },
                       {uniform({3, 2, 5, 5}, 44, -1, 1), uniform({3, 2, 3, 3}, 45, -1, 1), uniform({3}, 46, -1, 1)});
  Conv2dOptions o;
  o.padding = {1, 1};
  o.stride = {2, 2};
  expect_gradgradcheck([o](const Vars& v) { return square(conv2d(v[0], v[1], o)); },
                       {uniform({2, 3, 5, 4}, 47, -1, 1), uniform({4, 3, 2, 3}, 48, -1, 1)});
}

TEST(GradgradcheckConv, Conv2dThirdDerivative) {
  // d³/dx³ of Σ conv2d(x, w)³ along a direction, through two create_graph sweeps
  const Conv2dOptions o = strided_grouped();
  Variable x(conv_x(), true), w(conv_w(), true);
  const auto f = [&](const Variable& xx) { return sum(pow(conv2d(xx, w, o), 3.0)); };
  const Tensor dir = uniform({2, 4, 7, 6}, 49, -1, 1);
  const Variable d1 = grad({f(x)}, {x}, {.create_graph = true})[0];
  const Variable d2 = grad({sum(d1 * Variable(dir))}, {x}, {.create_graph = true})[0];
  const Variable d3 = grad({sum(d2 * Variable(dir))}, {x})[0];
  // f is a cubic in x: d³f[dir, dir, dir] = 6·Σ (conv2d(dir, w))³, and ⟨d3, dir⟩ equals it
  const Tensor cd = conv2d(Variable(dir), w, o).value();
  double expected = 0, got = 0;
  for (std::size_t k = 0; k < cd.size(); ++k) expected += 6 * cd.data()[k] * cd.data()[k] * cd.data()[k];
  for (std::size_t k = 0; k < dir.size(); ++k) got += d3.value().data()[k] * dir.data()[k];
  EXPECT_NEAR(got, expected, 1e-9 * std::abs(expected));
}

TEST(GradgradcheckConv, Conv2dCreateGraphGivesTheFirstOrderGradient) {
  const Conv2dOptions o = strided_grouped();
  expect_create_graph_matches([o](const Vars& v) { return conv2d(v[0], v[1], v[2], o); }, {conv_x(), conv_w(), conv_b()});
}

// ---- pooling --------------------------------------------------------------------------------

// x (2, 3, 6, 5) with its elements a permutation of well separated values: no ties, and no
// window whose maximum a central difference could move.
Tensor distinct_image() {
  const Tensor u = uniform({2, 3, 6, 5}, 50, 0, 1);
  Tensor x = Tensor::from_shape({2, 3, 6, 5});
  // rank of each element, spread by 0.05 (a step of 1e-6 never reorders them)
  for (std::size_t i = 0; i < u.size(); ++i) {
    std::size_t rank = 0;
    for (std::size_t j = 0; j < u.size(); ++j) rank += u.data()[j] < u.data()[i];
    x.data()[i] = -4.5 + 0.05 * double(rank);
  }
  return x;
}

TEST(GradgradcheckConv, MaxPool2d) {
  Pool2dOptions o;
  o.kernel = {3, 2};
  o.stride = {2, 1};
  o.padding = {1, 1};
  expect_gradgradcheck([o](const Vars& v) { return square(max_pool2d(v[0], o)); }, {distinct_image()});
  expect_gradgradcheck([](const Vars& v) { return square(max_pool2d(v[0], Pool2dOptions{})) * v[1]; },
                       {distinct_image(), uniform({2, 3, 3, 2}, 51, -1, 1)});
}

TEST(GradgradcheckConv, AvgPool2d) {
  Pool2dOptions o;
  o.kernel = {3, 3};
  o.stride = {2, 2};
  o.padding = {1, 1};
  expect_gradgradcheck([o](const Vars& v) { return square(avg_pool2d(v[0], o)); }, {distinct_image()});
  expect_gradgradcheck([o](const Vars& v) { return avg_pool2d(square(v[0]), o) * v[1]; },
                       {distinct_image(), uniform({2, 3, 3, 3}, 52, -1, 1)});
}

TEST(GradgradcheckConv, AdaptiveAvgPool2d) {
  // 6 → 4 rows and 5 → 3 columns: overlapping bins of different sizes
  expect_gradgradcheck([](const Vars& v) { return square(adaptive_avg_pool2d(v[0], {4, 3})); }, {distinct_image()});
  expect_gradgradcheck([](const Vars& v) { return adaptive_avg_pool2d(square(v[0]), {4, 3}) * v[1]; },
                       {distinct_image(), uniform({2, 3, 4, 3}, 53, -1, 1)});
}

TEST(GradgradcheckConv, PoolsCreateGraphGiveTheFirstOrderGradient) {
  Pool2dOptions o;
  o.kernel = {3, 2};
  o.stride = {2, 1};
  o.padding = {1, 1};
  expect_create_graph_matches([o](const Vars& v) { return max_pool2d(v[0], o); }, {distinct_image()});
  expect_create_graph_matches([o](const Vars& v) { return avg_pool2d(v[0], o); }, {distinct_image()});
  expect_create_graph_matches([](const Vars& v) { return adaptive_avg_pool2d(v[0], {4, 3}); }, {distinct_image()});
}

// ---- normalisation --------------------------------------------------------------------------

TEST(GradgradcheckConv, LayerNorm) {
  // x (2, 3, 4) normalized over (3, 4), and over (4) alone
  expect_gradgradcheck([](const Vars& v) { return square(layer_norm(v[0], v[1], v[2])) * v[3]; },
                       {uniform({2, 3, 4}, 54, -2, 2), uniform({3, 4}, 55, 0.5, 1.5), uniform({3, 4}, 56, -1, 1),
                        uniform({2, 3, 4}, 57, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return layer_norm(v[0], v[1], v[2], 1e-3) * v[3]; },
                       {uniform({3, 4}, 58, -2, 2), uniform({4}, 59, 0.5, 1.5), uniform({4}, 60, -1, 1),
                        uniform({3, 4}, 61, -1, 1)});
}

TEST(GradgradcheckConv, BatchNormTraining) {
  // x (3, 2, 2, 2): statistics per channel over 12 values; and x (4, 3)
  Tensor rm = xt::zeros<double>({2}), rv = xt::ones<double>({2});
  expect_gradgradcheck(
      [&](const Vars& v) { return square(batch_norm(v[0], v[1], v[2], rm, rv, true)) * v[3]; },
      {uniform({3, 2, 2, 2}, 62, -2, 2), uniform({2}, 63, 0.5, 1.5), uniform({2}, 64, -1, 1), uniform({3, 2, 2, 2}, 65, -1, 1)});
  Tensor rm3 = xt::zeros<double>({3}), rv3 = xt::ones<double>({3});
  expect_gradgradcheck([&](const Vars& v) { return batch_norm(v[0], v[1], v[2], rm3, rv3, true, 0.1, 1e-3) * v[3]; },
                       {uniform({4, 3}, 66, -2, 2), uniform({3}, 67, 0.5, 1.5), uniform({3}, 68, -1, 1),
                        uniform({4, 3}, 69, -1, 1)});
}

TEST(GradgradcheckConv, BatchNormEval) {
  Tensor rm = uniform({2}, 70, -0.5, 0.5), rv = uniform({2}, 71, 0.5, 2);
  expect_gradgradcheck(
      [&](const Vars& v) { return square(batch_norm(v[0], v[1], v[2], rm, rv, false)) * v[3]; },
      {uniform({3, 2, 2, 2}, 72, -2, 2), uniform({2}, 73, 0.5, 1.5), uniform({2}, 74, -1, 1), uniform({3, 2, 2, 2}, 75, -1, 1)});
}

TEST(GradgradcheckConv, NormsCreateGraphGiveTheFirstOrderGradient) {
  expect_create_graph_matches([](const Vars& v) { return layer_norm(v[0], v[1], v[2]); },
                              {uniform({2, 3, 4}, 76, -2, 2), uniform({3, 4}, 77, 0.5, 1.5), uniform({3, 4}, 78, -1, 1)});
  Tensor rm = xt::zeros<double>({2}), rv = xt::ones<double>({2});
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    expect_create_graph_matches([&](const Vars& v) { return batch_norm(v[0], v[1], v[2], rm, rv, training); },
                                {uniform({3, 2, 2, 2}, 79, -2, 2), uniform({2}, 80, 0.5, 1.5), uniform({2}, 81, -1, 1)});
  }
}

// ---- embedding ------------------------------------------------------------------------------

TEST(GradgradcheckConv, Embedding) {
  // indices (2, 3) with repeats into a (4, 3) table
  const Variable idx(Tensor{{1.0, 0.0, 3.0}, {1.0, 1.0, 2.0}});
  expect_gradgradcheck([idx](const Vars& v) { return square(embedding(idx, v[0])) * v[1]; },
                       {uniform({4, 3}, 82, -1, 1), uniform({2, 3, 3}, 83, -1, 1)});
  expect_create_graph_matches([idx](const Vars& v) { return embedding(idx, v[0]); }, {uniform({4, 3}, 84, -1, 1)});
}

// ---- the checker rejects a drifted double backward, for each family ---------------------------

// An op with f's value and first derivative (its fast path: dxᵢ = Jᵢᵀ·g, Jᵢ f's Jacobian at
// the forward inputs), whose create_graph path is a hand-kept copy that drifted: Jᵢ taken as a
// constant (as if im2col's columns or x̂ had been detached from x and W), and its row 0 (where
// output element 0 is routed) scaled by `skew`. For ops linear in their inputs a constant J is right, and only the skew is
// wrong. gradcheck passes; gradgradcheck must not.
Variable drifted(const GradcheckFunction& f, const Vars& inputs, double skew) {
  if (!is_grad_enabled()) return f(inputs);  // a value only (the checker's central differences)
  Vars leaves;
  for (const Variable& v : inputs) leaves.emplace_back(v.value(), true);
  const Variable y = f(leaves);
  const std::size_t m = y.value().size();
  std::vector<Tensor> jac;  // Jᵢ (m, size of input i)
  for (const Variable& v : leaves) jac.push_back(Tensor::from_shape({m, v.value().size()}));
  for (std::size_t r = 0; r < m; ++r) {
    Tensor e = xt::zeros<double>(y.value().shape());
    e.data()[r] = 1;
    const Vars rows = grad({y}, leaves, xtgrad::BasicGradOptions<double>().set_retain_graph(true).set_materialize_grads(true).set_grad_outputs({e}));
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      std::copy(rows[i].value().data(), rows[i].value().data() + rows[i].value().size(), jac[i].data() + r * leaves[i].value().size());
    }
  }
  return make_result("drifted", Tensor(y.value()), inputs, [jac = std::move(jac), m, skew](Node& self) {
    for (std::size_t i = 0; i < jac.size(); ++i) {
      if (!self.parent_requires_grad(i)) continue;
      const Shape shape = shape_of(self.parents[i]->value);
      if (self.grad_node) {
        Tensor j = jac[i];
        for (std::size_t c = 0; c < j.shape()[1]; ++c) j(0, c) *= skew;
        const Variable g = reshape(Variable(self.grad_node), {1, m});
        add_variable_to_parent(self, i, reshape(matmul(g, Variable(std::move(j))), shape));
        continue;
      }
      Tensor d = Tensor::from_shape({jac[i].shape()[1]});
      for (std::size_t c = 0; c < d.size(); ++c) {
        double s = 0;
        for (std::size_t r = 0; r < m; ++r) s += self.grad.data()[r] * jac[i](r, c);
        d.data()[c] = s;
      }
      d.reshape(shape);
      self.add_to_parent(i, std::move(d));
    }
  });
}

// f passes gradgradcheck; its drifted copy passes gradcheck and fails gradgradcheck, with a
// report that names an input and an element.
void expect_drift_caught(const GradcheckFunction& f, const std::vector<Tensor>& inputs, double skew) {
  const auto bad = [&](const Vars& v) { return drifted(f, v, skew); };
  EXPECT_TRUE(gradcheck(bad, inputs).ok);
  const GradcheckReport report = gradgradcheck(bad, inputs);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.message.find("FAILED"), std::string::npos) << report.message;
  EXPECT_NE(report.message.find("flat index"), std::string::npos) << report.message;
  EXPECT_GT(report.worst_ratio, 1.0);
}

TEST(GradgradcheckConv, RejectsADriftedDoubleBackward) {
  {
    SCOPED_TRACE("conv2d, columns detached from x and W");
    const Conv2dOptions o = strided_grouped();
    const auto f = [o](const Vars& v) { return square(conv2d(v[0], v[1], v[2], o)); };
    // the honest wrapper (skew 1, J constant) is wrong too for this non-linear f
    expect_drift_caught(f, {uniform({1, 4, 5, 4}, 85, -1, 1), uniform({2, 2, 2, 2}, 86, -1, 1), uniform({2}, 87, -1, 1)}, 1.0);
  }
  {
    SCOPED_TRACE("max_pool2d, a wrong routing weight");
    const auto f = [](const Vars& v) { return max_pool2d(v[0], Pool2dOptions{}); };
    const std::vector<Tensor> x{distinct_image()};
    // linear: with a constant J and no skew the copy is right, and passes
    EXPECT_TRUE(gradgradcheck([&](const Vars& v) { return square(drifted(f, v, 1.0)); }, x).ok);
    EXPECT_FALSE(gradgradcheck([&](const Vars& v) { return square(drifted(f, v, 1.1)); }, x).ok);
  }
  {
    SCOPED_TRACE("layer_norm, statistics detached from x");
    const auto f = [](const Vars& v) { return layer_norm(v[0], v[1], v[2]); };
    expect_drift_caught(f, {uniform({2, 4}, 88, -2, 2), uniform({4}, 89, 0.5, 1.5), uniform({4}, 90, -1, 1)}, 1.0);
  }
  {
    SCOPED_TRACE("batch_norm, statistics detached from x");
    Tensor rm = xt::zeros<double>({2}), rv = xt::ones<double>({2});
    const auto f = [&](const Vars& v) { return batch_norm(v[0], v[1], v[2], rm, rv, true); };
    expect_drift_caught(f, {uniform({3, 2}, 91, -2, 2), uniform({2}, 92, 0.5, 1.5), uniform({2}, 93, -1, 1)}, 1.0);
  }
  {
    SCOPED_TRACE("embedding, a wrong scatter weight");
    const Variable idx(Tensor{2.0, 0.0, 2.0});
    const auto f = [idx](const Vars& v) { return embedding(idx, v[0]); };
    const std::vector<Tensor> w{uniform({3, 2}, 94, -1, 1)};
    EXPECT_TRUE(gradgradcheck([&](const Vars& v) { return square(drifted(f, v, 1.0)); }, w).ok);
    EXPECT_FALSE(gradgradcheck([&](const Vars& v) { return square(drifted(f, v, 1.1)); }, w).ok);
  }
}

}  // namespace
}  // namespace xtgrad_test
