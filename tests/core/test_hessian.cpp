// hessian_vector_product and hessian: exact on a quadratic form, finite differences of the
// gradient on the seed's sigmoid MLP, and PyTorch's torch.autograd.functional.hvp on a fixed net
// (tests/data/hvp_reference.txt, written by tests/data/make_hvp_reference.py).
// hessian_top_eigenvalue: against LAPACK's eigenvalues (xt::linalg::eigh) of the dense Hessian
// that hessian() forms on the same MLP, and on quadratics with known spectra.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>

#include "test_util.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::expect_tensor_near;
using xtgrad_test::make_tensor;
using xtgrad_test::uniform;
using Vars = std::vector<Variable>;

const Tensor kA = make_tensor({3, 3}, {4, 1, -2, 1, 3, 0, -2, 0, 5});  // symmetric

// ½xᵀAx for x of shape (3, 1): its Hessian is A.
Variable half_quadratic_form(const Variable& x) { return sum(x * matmul(Variable(kA), x)) * 0.5; }

TEST(HessianVectorProduct, OfAQuadraticFormIsAvExactly) {
  const Variable x = Variable::parameter(make_tensor({3, 1}, {0.5, -1.25, 2}));
  const Tensor v = make_tensor({3, 1}, {1, -2, 3});
  const std::vector<Tensor> hv = hessian_vector_product([](const Vars& p) { return half_quadratic_form(p[0]); }, {x}, {v});
  ASSERT_EQ(hv.size(), 1u);
  xtgrad_test::expect_values(hv[0], {3, 1}, {4 - 2 - 6, 1 - 6, -2 + 15});  // A·v
  EXPECT_FALSE(x.has_grad());  // .grad untouched
}

TEST(Hessian, OfAQuadraticFormIsA) {
  const Tensor h = hessian([](const Variable& x) { return half_quadratic_form(x); }, make_tensor({3, 1}, {1, 2, 3}));
  ASSERT_EQ(shape_of(h), (Shape{3, 1, 3, 1}));
  for (std::size_t k = 0; k < 9; ++k) EXPECT_EQ(h.data()[k], kA.data()[k]) << "at " << k;
}

TEST(Hessian, OfALinearFunctionIsZero) {
  const Tensor h = hessian([](const Variable& x) { return sum(x * 3.0); }, make_tensor({2}, {1, 2}));
  xtgrad_test::expect_values(h, {2, 2}, {0, 0, 0, 0});
}

TEST(HessianVectorProduct, ChecksItsArguments) {
  const Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  const auto f = [](const Vars& p) { return sum(p[0] * p[0]); };
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { hessian_vector_product(f, {x}, {make_tensor({3}, {1, 2, 3})}); }, {"vector 0", "(3)", "(2)"});
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { hessian_vector_product([](const Vars& p) { return p[0] * 2.0; }, {x}, {make_tensor({2}, {1, 2})}); },
      {"one-element", "(2)"});
}

// The seed's model: cross_entropy(linear(sigmoid(linear(x, W1, b1)), W2, b2), one-hot y).
struct SeedMlp {
  Tensor x = uniform({6, 4}, 31, -1, 1);
  Tensor y = make_tensor({6, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
  Variable loss(const Vars& p) const {
    return cross_entropy(linear(sigmoid(linear(Variable(x), p[0], p[1])), p[2], p[3]), Variable(y));
  }
};

TEST(HessianVectorProduct, OfTheSeedMlpMatchesFiniteDifferencesOfItsGradient) {
  const SeedMlp net;
  const std::vector<Tensor> theta{uniform({5, 4}, 32, -1, 1), uniform({5}, 33, -1, 1), uniform({3, 5}, 34, -1, 1),
                                  uniform({3}, 35, -1, 1)};
  const std::vector<Tensor> v{uniform({5, 4}, 36, -1, 1), uniform({5}, 37, -1, 1), uniform({3, 5}, 38, -1, 1),
                              uniform({3}, 39, -1, 1)};
  Vars params;
  for (const Tensor& t : theta) params.push_back(Variable::parameter(t));
  const auto f = [&net](const Vars& p) { return net.loss(p); };
  const std::vector<Tensor> hv = hessian_vector_product(f, params, v);
  // (∇f(θ + εv) − ∇f(θ − εv)) / 2ε
  const double eps = 1e-5;
  auto gradient_at = [&](double step) {
    Vars p;
    for (std::size_t i = 0; i < theta.size(); ++i) p.push_back(Variable::parameter(Tensor(theta[i] + step * v[i])));
    std::vector<Tensor> g;
    for (const Variable& gi : grad({net.loss(p)}, p)) g.push_back(gi.value());
    return g;
  };
  const std::vector<Tensor> up = gradient_at(eps), down = gradient_at(-eps);
  for (std::size_t i = 0; i < theta.size(); ++i) {
    expect_tensor_near(hv[i], Tensor((up[i] - down[i]) / (2 * eps)), 1e-8);
  }
}

// name → tensor, from the reference file's "name dims... : values" lines.
std::map<std::string, Tensor> read_reference(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::map<std::string, Tensor> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string name, word;
    s >> name;
    Shape shape;
    while (s >> word && word != ":") shape.push_back(std::stoul(word));
    std::vector<double> values;
    double v;
    while (s >> v) values.push_back(v);
    Tensor t = Tensor::from_shape(shape);
    EXPECT_EQ(t.size(), values.size()) << name;
    std::copy(values.begin(), values.end(), t.data());
    out[name] = t;
  }
  return out;
}

TEST(HessianVectorProduct, MatchesPyTorch) {
  auto ref = read_reference(std::string(XTGRAD_TEST_DATA_DIR) + "/hvp_reference.txt");
  ASSERT_EQ(ref.count("hvp_b2"), 1u);
  std::vector<std::size_t> labels;
  for (std::size_t i = 0; i < ref["labels"].size(); ++i) labels.push_back(std::size_t(ref["labels"].data()[i]));
  const Tensor x = ref["x"];
  const std::vector<std::string> names{"W1", "b1", "W2", "b2"};
  Vars params;
  std::vector<Tensor> v;
  for (const std::string& n : names) {
    params.push_back(Variable::parameter(ref[n]));
    v.push_back(ref["v_" + n]);
  }
  // the reference's W1, W2 are (in, out): x·W + b, as matmul and a broadcast add
  const auto f = [&](const Vars& p) {
    return cross_entropy(matmul(sigmoid(matmul(Variable(x), p[0]) + p[1]), p[2]) + p[3], labels);
  };
  EXPECT_NEAR(f(params).item(), ref["loss"].data()[0], 1e-14);
  const std::vector<Variable> g = grad({f(params)}, params);
  const std::vector<Tensor> hv = hessian_vector_product(f, params, v);
  for (std::size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    expect_tensor_near(g[i].value(), ref["grad_" + names[i]], 1e-14);
    expect_tensor_near(hv[i], ref["hvp_" + names[i]], 1e-14);
  }
}

// ---- hessian_top_eigenvalue ----------------------------------------------------------------

// The dominant eigenvalue (largest magnitude, signed) and its unit eigenvector, by LAPACK.
std::pair<double, Tensor> dense_dominant_eigenpair(const Tensor& h, std::size_t n) {
  xt::xtensor<double, 2> m = xt::zeros<double>({n, n});
  for (std::size_t i = 0; i < n * n; ++i) m.data()[i] = double(h.data()[i]);
  const auto [values, vectors] = xt::linalg::eigh(m);  // ascending; columns are the vectors
  const std::size_t k = std::abs(values(0)) > std::abs(values(n - 1)) ? 0 : n - 1;
  Tensor v = Tensor::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) v.data()[i] = vectors(i, k);
  return {values(k), v};
}

// The seed MLP's four parameters as one flat vector θ (43 values), so that hessian() applies.
struct FlatSeedMlp {
  SeedMlp net;
  const std::vector<Shape> shapes{{5, 4}, {5}, {3, 5}, {3}};
  Vars unflatten(const Variable& theta) const {
    Vars p;
    std::int64_t at = 0;
    for (const Shape& s : shapes) {
      std::size_t size = 1;
      for (std::size_t d : s) size *= d;
      p.push_back(reshape(narrow(theta, 0, at, size), s));
      at += std::int64_t(size);
    }
    return p;
  }
};

TEST(HessianTopEigenvalue, MatchesTheDenseHessiansDominantEigenvalueOnTheSeedMlp) {
  const FlatSeedMlp flat;
  const Tensor theta = uniform({43}, 40, -1.5, 1.5);
  const Tensor h = hessian([&](const Variable& t) { return flat.net.loss(flat.unflatten(t)); }, theta);
  const auto [lambda, u] = dense_dominant_eigenpair(h, 43);
  // The same point as four parameters.
  const Vars params = [&] {
    Vars p;
    for (const Variable& v : flat.unflatten(Variable(theta))) p.push_back(Variable::parameter(v.value()));
    return p;
  }();
  const auto f = [&](const Vars& p) { return flat.net.loss(p); };
  PowerIterationOptions options;
  options.iterations = 2000;
  options.tolerance = 1e-13;
  const TopEigen<Scalar> top = hessian_top_eigenvalue(f, params, options);
  EXPECT_NEAR(top.eigenvalue, lambda, 1e-8 * std::abs(lambda)) << "after " << top.iterations << " iterations";
  EXPECT_LT(top.iterations, options.iterations);  // stopped on the tolerance
  EXPECT_LT(top.residual, 1e-5 * std::abs(lambda));
  // The eigenvector, flattened in the same order, is ±u.
  double cosine = 0;
  std::size_t k = 0;
  for (const Tensor& t : top.eigenvector) {
    for (std::size_t i = 0; i < t.size(); ++i) cosine += t.data()[i] * u.data()[k++];
  }
  ASSERT_EQ(k, 43u);
  EXPECT_NEAR(std::abs(cosine), 1.0, 1e-6);
  for (const Variable& p : params) EXPECT_FALSE(p.has_grad());  // .grad untouched
}

// ½ Σ dᵢ xᵢ² over two parameters: the Hessian is diag(d), whose dominant eigenvalue is known.
Variable half_weighted_squares(const Vars& p, const Tensor& d0, const Tensor& d1) {
  return (sum(Variable(d0) * p[0] * p[0]) + sum(Variable(d1) * p[1] * p[1])) * 0.5;
}

TEST(HessianTopEigenvalue, FindsANegativeDominantEigenvalueWithItsSign) {
  const Tensor d0 = make_tensor({2}, {2, -5}), d1 = make_tensor({2, 1}, {1, 0.5});
  const Vars params{Variable::parameter(make_tensor({2}, {0.3, -0.2})), Variable::parameter(make_tensor({2, 1}, {1, 2}))};
  PowerIterationOptions options;
  options.iterations = 200;
  const TopEigen<Scalar> top =
      hessian_top_eigenvalue([&](const Vars& p) { return half_weighted_squares(p, d0, d1); }, params, options);
  EXPECT_NEAR(top.eigenvalue, -5.0, 1e-10);
  EXPECT_LT(top.residual, 1e-10);

  EXPECT_NEAR(std::abs(top.eigenvector[0].data()[1]), 1.0, 1e-10);  // the second coordinate of the first parameter
  EXPECT_EQ(top.iterations, 200u);  // tolerance 0: every iteration runs
}

TEST(HessianTopEigenvalue, TwentyIterationsAreCloseWhenTheGapIsWide) {
  // eigenvalues 10, 1, 0.5, 0.25: the error shrinks by (1/10)² per iteration in λ
  const Tensor d0 = make_tensor({2}, {10, 1}), d1 = make_tensor({2, 1}, {0.5, 0.25});
  const Vars params{Variable::parameter(make_tensor({2}, {1, 1})), Variable::parameter(make_tensor({2, 1}, {1, 1}))};
  const TopEigen<Scalar> top =
      hessian_top_eigenvalue([&](const Vars& p) { return half_weighted_squares(p, d0, d1); }, params);
  EXPECT_EQ(top.iterations, 20u);  // the default
  EXPECT_NEAR(top.eigenvalue, 10.0, 1e-12);
}

TEST(HessianTopEigenvalue, IsZeroForALinearFunctionAfterOneProduct) {
  const Vars params{Variable::parameter(make_tensor({3}, {1, 2, 3}))};
  const TopEigen<Scalar> top = hessian_top_eigenvalue([](const Vars& p) { return sum(p[0] * 3.0); }, params);
  EXPECT_EQ(top.eigenvalue, 0.0);
  EXPECT_EQ(top.iterations, 1u);
}

TEST(HessianTopEigenvalue, TheSameSeedGivesTheSameNumbersAndAnotherSeedStartsElsewhere) {
  const SeedMlp net;
  Vars params{Variable::parameter(uniform({5, 4}, 41, -1, 1)), Variable::parameter(uniform({5}, 42, -1, 1)),
              Variable::parameter(uniform({3, 5}, 43, -1, 1)), Variable::parameter(uniform({3}, 44, -1, 1))};
  const auto f = [&net](const Vars& p) { return net.loss(p); };
  PowerIterationOptions options;
  options.iterations = 3;
  const double a = hessian_top_eigenvalue(f, params, options).eigenvalue;
  EXPECT_EQ(hessian_top_eigenvalue(f, params, options).eigenvalue, a);
  options.seed = 1;
  EXPECT_NE(hessian_top_eigenvalue(f, params, options).eigenvalue, a);
}

TEST(HessianTopEigenvalue, ChecksItsArguments) {
  const auto f = [](const Vars& p) { return sum(p[0] * p[0]); };
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { hessian_top_eigenvalue(f, Vars{}); },
                                                         {"hessian_top_eigenvalue", "no parameters"});
  PowerIterationOptions none;
  none.iterations = 0;
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { hessian_top_eigenvalue(f, {Variable::parameter(make_tensor({2}, {1, 2}))}, none); },
      {"hessian_top_eigenvalue", "iterations"});
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { hessian_top_eigenvalue(f, {Variable(make_tensor({2}, {1, 2}))}, PowerIterationOptions{}); },
      {"hessian_top_eigenvalue", "does not require grad"});
}

}  // namespace
}  // namespace xtgrad_test
