// clip_grad_norm and clip_grad_value: scaling by the global norm, untouched below the bound,
// parameters without a gradient skipped, elementwise clamping, argument checks, use in fit.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.hpp"
#include "xtgrad/nn/clip.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using NamedParameters = xtgrad::NamedParametersOf<float>;
using Tensor = xtgrad::TensorOf<float>;
using Variable = xtgrad::BasicVariable<float>;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::expect_throws_with;

template <class T>
xtgrad::BasicVariable<T> with_grad(const xtgrad::TensorOf<T>& value, const xtgrad::TensorOf<T>& grad) {
  auto p = xtgrad::BasicVariable<T>::parameter(value);
  p.backward(grad);
  return p;
}

TEST(ClipGradNorm, ScalesEveryGradientByTheGlobalNorm) {
  // ‖(3, 4)‖ with (0, 0, 12) in a second tensor: √(9 + 16 + 144) = 13.
  const Variable a = with_grad(Tensor({1.0, 1.0}), Tensor({3.0, 4.0}));
  const Variable b = with_grad(Tensor({1.0, 1.0, 1.0}), Tensor({0.0, 0.0, 12.0}));
  const Variable none = Variable::parameter(Tensor({1.0}));
  const NamedParameters params{{"a", a}, {"b", b}, {"none", none}};
  EXPECT_NEAR(xtgrad::nn::clip_grad_norm(params, 6.5), 13.0, 1e-12);
  const double k = 6.5 / (13.0 + 1e-6);
  expect_tensor_near(a.grad(), Tensor({3 * k, 4 * k}), 1e-6);
  expect_tensor_near(b.grad(), Tensor({0.0, 0.0, 12 * k}), 1e-6);
  EXPECT_FALSE(none.has_grad());
}

TEST(ClipGradNorm, WorksOnDoubleParametersInDouble) {
  using Tensor64 = xtgrad::TensorOf<double>;
  const auto a = with_grad(Tensor64({1.0, 1.0}), Tensor64({3.0, 4.0}));
  const xtgrad::NamedParametersOf<double> params{{"a", a}};
  EXPECT_NEAR(xtgrad::nn::clip_grad_norm(params, 2.5), 5.0, 1e-12);
  const double k = 2.5 / (5.0 + 1e-6);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_NEAR(a.grad()(i), (i == 0 ? 3.0 : 4.0) * k, 1e-12);
  xtgrad::nn::clip_grad_value(params, 1.0);
  EXPECT_EQ(a.grad()(1), 1.0);
}

TEST(ClipGradNorm, LeavesSmallGradientsAlone) {
  const Variable a = with_grad(Tensor({1.0, 1.0}), Tensor({0.3, 0.4}));
  EXPECT_NEAR(xtgrad::nn::clip_grad_norm({{"a", a}}, 1.0), 0.5, 1e-7);  // ‖(0.3f, 0.4f)‖
  expect_tensor_near(a.grad(), Tensor({0.3, 0.4}), 0.0);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::clip_grad_norm({{"a", a}}, 0.0); },
                                            {"clip_grad_norm", "max_norm"});
}

TEST(ClipGradValue, ClampsEachElement) {
  const Variable a = with_grad(Tensor({1.0, 1.0, 1.0}), Tensor({-3.0, 0.5, 2.0}));
  xtgrad::nn::clip_grad_value({{"a", a}}, 1.0);
  expect_tensor_near(a.grad(), Tensor({-1.0, 0.5, 1.0}), 0.0);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::clip_grad_value({{"a", a}}, -1.0); },
                                            {"clip_grad_value", "clip"});
}

TEST(ClipInFit, BeforeStepBoundsEveryUpdate) {
  // SGD lr 1 with gradients clipped to norm 0.01: no step moves the parameters farther than 0.01.
  xtgrad::Rng rng(2);
  xtgrad::nn::Linear fc(2, 2, rng);
  xtgrad::nn::Dataset data{xtgrad::randn({16, 2}, rng, 0.0, 10.0), Tensor::from_shape({16})};
  for (std::size_t i = 0; i < 16; ++i) data.targets(i) = double(i % 2);
  xtgrad::nn::SGD sgd(fc.named_parameters(), 1.0);
  const NamedParameters params = fc.named_parameters();
  xtgrad::nn::FitOptions options;
  options.epochs = 2;
  options.batch_size = 4;
  options.progress_bar = false;
  std::vector<Tensor> before;
  double largest = 0;
  options.before_step = [&] {
    xtgrad::nn::clip_grad_norm(params, 0.01);
    before = {params[0].second.value(), params[1].second.value()};
  };
  options.after_step = [&] {
    double sq = 0;
    for (std::size_t p = 0; p < 2; ++p) {
      const Tensor& now = params[p].second.value();
      for (std::size_t i = 0; i < now.size(); ++i) sq += std::pow(now.data()[i] - before[p].data()[i], 2);
    }
    largest = std::max(largest, std::sqrt(sq));
  };
  xtgrad::nn::fit(fc, sgd, data, nullptr, rng, options);
  EXPECT_GT(largest, 0.0);
  EXPECT_LE(largest, 0.01 + 1e-6);  // float parameters: each update rounded
}

}  // namespace
