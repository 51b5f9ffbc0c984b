#include "blog_loss.hpp"

#include <cmath>

#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/losses.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace mnist_app {

template <class Scalar>
xtgrad::BasicVariable<Scalar> blog_cross_entropy(const xtgrad::BasicVariable<Scalar>& logits,
                                                 const xtgrad::BasicVariable<Scalar>& targets) {
  using Tensor = xtgrad::TensorOf<Scalar>;
  xtgrad::check_same_shape("blog_cross_entropy", logits.value(), targets.value(), "logits", "targets");
  // The value is the ordinary loss; only the backward differs.
  const Tensor loss = xtgrad::cross_entropy(logits.detach(), targets.detach()).value();
  return xtgrad::make_result("blog_cross_entropy", Tensor(loss), {logits, targets}, [](xtgrad::BasicNode<Scalar>& self) {
    const Tensor& z = self.parent_value(0);
    const Tensor& y = self.parent_value(1);
    const std::size_t n = z.shape()[0];
    // p = softmax(z) per row : (n, c)
    Tensor m = xt::amax(z, {1}, xt::keep_dims | xt::evaluation_strategy::immediate);
    Tensor p = xt::exp(z - m);
    Tensor s = xt::sum(p, {1}, xt::keep_dims | xt::evaluation_strategy::immediate);
    p /= s;
    // g = (p − y)/n, then once more through the softmax Jacobian: p ⊙ (g − Σ_c p ⊙ g)
    Tensor g = (p - y) * (self.grad.data()[0] / static_cast<Scalar>(n));
    Tensor pg = xt::sum(p * g, {1}, xt::keep_dims | xt::evaluation_strategy::immediate);
    self.add_to_parent(0, p * (g - pg));
  });
}

template xtgrad::BasicVariable<float> blog_cross_entropy(const xtgrad::BasicVariable<float>&,
                                                         const xtgrad::BasicVariable<float>&);
template xtgrad::BasicVariable<double> blog_cross_entropy(const xtgrad::BasicVariable<double>&,
                                                          const xtgrad::BasicVariable<double>&);

}  // namespace mnist_app
