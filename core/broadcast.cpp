#include "xtgrad/core/broadcast.hpp"

#include <stdexcept>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {

namespace {
// g broadcast to `shape`: a lazy expression for a tensor, the op for a Variable.
template <class Scalar>
auto broadcast_to_shape(const TensorOf<Scalar>& g, const Shape& shape) {
  return xt::broadcast(g, shape);
}
template <class Scalar>
BasicVariable<Scalar> broadcast_to_shape(const BasicVariable<Scalar>& g, const Shape& shape) {
  return broadcast_to(g, shape);
}
}  // namespace

template <class Scalar>
BasicVariable<Scalar> sum_to(const BasicVariable<Scalar>& x, const Shape& shape) {
  using Tensor = TensorOf<Scalar>;
  if (shapes_equal(x.value().shape(), shape)) return x;
  Tensor out = Tensor::from_shape({0});
  try {
    out = sum_to(x.value(), shape);
  } catch (const std::logic_error&) {
    throw std::invalid_argument("sum_to: cannot reduce " + shape_str(x.value()) + " to " + shape_str(shape));
  }
  return make_result("sum_to", std::move(out), {x}, [](BasicNode<Scalar>& self) {
    // dx = g broadcast to x's shape
    const TensorOf<Scalar>& xv = self.parents[0]->value;
    const Shape x_shape(xv.shape().begin(), xv.shape().end());
    backward_linear(self, [&x_shape](const auto& g) { return broadcast_to_shape(g, x_shape); });
  });
}

template <class Scalar>
BasicVariable<Scalar> broadcast_to(const BasicVariable<Scalar>& x, const Shape& shape) {
  if (shapes_equal(x.value().shape(), shape)) return x;
  const TensorOf<Scalar>& v = x.value();
  // every axis of x (aligned right) must be 1 or equal to the target's
  bool ok = v.dimension() <= shape.size();
  for (std::size_t k = 0; ok && k < v.dimension(); ++k) {
    const std::size_t have = v.shape()[k], want = shape[shape.size() - v.dimension() + k];
    ok = have == want || have == 1;
  }
  if (!ok) throw std::invalid_argument("broadcast_to: cannot broadcast " + shape_str(v) + " to " + shape_str(shape));
  return make_result("broadcast_to", evaluate(xt::broadcast(v, shape)), {x}, [](BasicNode<Scalar>& self) {
    // dx = sum_to(g, x's shape): the engine reduces a share of the broadcast shape
    backward_linear(self, [](const auto& g) -> const auto& { return g; });
  });
}

template BasicVariable<float> sum_to(const BasicVariable<float>&, const Shape&);
template BasicVariable<double> sum_to(const BasicVariable<double>&, const Shape&);
template BasicVariable<float> broadcast_to(const BasicVariable<float>&, const Shape&);
template BasicVariable<double> broadcast_to(const BasicVariable<double>&, const Shape&);

}  // namespace xtgrad
