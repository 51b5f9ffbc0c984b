// mnist_app::blog_cross_entropy (double): the value of cross_entropy, the blog's gradient
// p ⊙ (g − Σ_c p⊙g) with g = (p − y)/n, and a gradient check that catches it.
#include <gtest/gtest.h>

#if __has_include("blog_loss.hpp")  // the app's library is linked only when apps/ is built

#include <algorithm>
#include <cmath>
#include <vector>

#include "blog_loss.hpp"
#include "test_util.hpp"

namespace {

using xtgrad_test::Tensor;
using xtgrad_test::Variable;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::uniform;

// One-hot rows (n, c) for labels[i].
Tensor one_hot(const std::vector<std::size_t>& labels, std::size_t c) {
  Tensor y = xtgrad::Tensor::from_shape({labels.size(), c});
  y.fill(0);
  for (std::size_t i = 0; i < labels.size(); ++i) y(i, labels[i]) = 1;
  return y;
}

// The blog's gradient, from the formula, with plain loops: p = softmax(z) per row,
// g = upstream·(p − y)/n, dz = p ⊙ (g − Σ_c p⊙g).
Tensor blog_gradient(const Tensor& z, const Tensor& y, double upstream) {
  const std::size_t n = z.shape()[0], c = z.shape()[1];
  Tensor dz = Tensor::from_shape({n, c});
  for (std::size_t i = 0; i < n; ++i) {
    double m = z(i, 0);
    for (std::size_t j = 1; j < c; ++j) m = std::max(m, double(z(i, j)));
    std::vector<double> p(c), g(c);
    double s = 0;
    for (std::size_t j = 0; j < c; ++j) s += p[j] = std::exp(z(i, j) - m);
    double pg = 0;
    for (std::size_t j = 0; j < c; ++j) {
      p[j] /= s;
      g[j] = upstream * (p[j] - y(i, j)) / double(n);
      pg += p[j] * g[j];
    }
    for (std::size_t j = 0; j < c; ++j) dz(i, j) = p[j] * (g[j] - pg);
  }
  return dz;
}

const Tensor& logits() {
  static const Tensor z = uniform({6, 5}, 1, -3.0, 3.0);
  return z;
}
const Tensor& targets() {
  static const Tensor y = one_hot({0, 4, 2, 2, 1, 3}, 5);
  return y;
}

TEST(BlogLoss, ValueEqualsCrossEntropy) {
  const Variable z(logits()), y(targets());
  const Variable blog = mnist_app::blog_cross_entropy(z, y);
  const Variable ce = xtgrad::cross_entropy(z, y);
  EXPECT_EQ(blog.size(), 1u);
  EXPECT_NEAR(blog.item(), ce.item(), 1e-14);
  // And cross_entropy's value is −(1/n) Σ log p_label, so both are the real loss.
  double expected = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < 5; ++j) s += std::exp(logits()(i, j));
    for (std::size_t j = 0; j < 5; ++j) {
      if (targets()(i, j) == 1) expected -= logits()(i, j) - std::log(s);
    }
  }
  EXPECT_NEAR(blog.item(), expected / 6, 1e-12);
}

TEST(BlogLoss, GradientIsTheSoftmaxJacobianAppliedToTheTrueOne) {
  const Variable z = Variable::parameter(logits());
  mnist_app::blog_cross_entropy(z, Variable(targets())).backward();
  expect_tensor_near(z.grad(), blog_gradient(logits(), targets(), 1.0), 1e-14);
}

TEST(BlogLoss, GradientScalesWithTheUpstreamGradient) {
  const Variable z = Variable::parameter(logits());
  (mnist_app::blog_cross_entropy(z, Variable(targets())) * 3.0).backward();
  expect_tensor_near(z.grad(), blog_gradient(logits(), targets(), 3.0), 1e-14);
}

TEST(BlogLoss, DiffersFromTheTrueGradient) {
  const Variable z1 = Variable::parameter(logits()), z2 = Variable::parameter(logits());
  mnist_app::blog_cross_entropy(z1, Variable(targets())).backward();
  xtgrad::cross_entropy(z2, Variable(targets())).backward();
  double max_diff = 0;
  for (std::size_t i = 0; i < z1.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(double(z1.grad().data()[i] - z2.grad().data()[i])));
  }
  EXPECT_GT(max_diff, 1e-3);
}

TEST(BlogLoss, GradcheckFailsOnItWhileCrossEntropyPasses) {
  const Variable y(targets());
  const auto blog = [&](const std::vector<Variable>& v) { return mnist_app::blog_cross_entropy(v[0], y); };
  const auto ce = [&](const std::vector<Variable>& v) { return xtgrad::cross_entropy(v[0], y); };
  const xtgrad::GradcheckReport bad = xtgrad::gradcheck(blog, {logits()});
  EXPECT_FALSE(bad.ok) << "the blog's gradient passed a gradient check";
  EXPECT_GT(bad.worst_ratio, 1.0);
  EXPECT_FALSE(bad.message.empty());
  xtgrad_test::expect_gradcheck(ce, {logits()});
}

TEST(BlogLoss, RejectsMismatchedShapes) {
  EXPECT_THROW(mnist_app::blog_cross_entropy(Variable(logits()), Variable(one_hot({0, 1}, 5))),
               std::invalid_argument);
}

}  // namespace

#else

TEST(BlogLoss, SkippedWithoutTheApp) { GTEST_SKIP() << "apps/mnist_regularization is not built"; }

#endif
