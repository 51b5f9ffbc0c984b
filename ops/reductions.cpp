#include "xtgrad/ops/reductions.hpp"

#include <limits>
#include <stdexcept>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/core/broadcast.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
namespace {

template <class Scalar>
BasicVariable<Scalar> reduce_all(const char* op, const BasicVariable<Scalar>& x, bool average) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  const std::size_t n = v.size();
  double total = 0;  // accumulate in double: a float sum of 2e7 ones is 1.67e7
  for (std::size_t i = 0; i < n; ++i) total += v.data()[i];
  const Scalar scale = average ? Scalar(1) / static_cast<Scalar>(n) : Scalar(1);
  // an empty x: sum 0, mean NaN (0/0, as PyTorch and numpy); dx is empty
  Tensor result = scalar_tensor(static_cast<Scalar>(
      !average ? total : n == 0 ? std::numeric_limits<double>::quiet_NaN() : total / double(n)));
  return make_result(op, std::move(result), {x}, [scale](Node& self) {
    // dx = g (or g / n) at every element
    if (self.grad_node) {
      add_variable_to_parent(self, 0, broadcast_to(Variable(self.grad_node) * scale, shape_of(self.parents[0]->value)));
      return;
    }
    const Scalar g = self.grad.data()[0] * scale;
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    const std::size_t count = self.parents[0]->value.size();  // its size only: no in-place check
    if (beta == 0) {
      std::fill(dx, dx + count, g);
    } else {
      for (std::size_t k = 0; k < count; ++k) dx[k] += g;
    }
  });
}

// x viewed as (outer, n, inner) around axis `ax`; the result (outer, inner) is Σ over n (or the
// mean), shaped with the axis kept as 1 or dropped.
template <class Scalar>
BasicVariable<Scalar> reduce_axis(const char* op, const BasicVariable<Scalar>& x, int axis, bool keepdims,
                                  bool average) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  const std::size_t ax = normalize_axis(op, v, axis);
  const std::size_t n = v.shape()[ax];
  const Scalar scale = average ? Scalar(1) / static_cast<Scalar>(n) : Scalar(1);
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < ax; ++d) outer *= v.shape()[d];
  for (std::size_t d = ax + 1; d < v.dimension(); ++d) inner *= v.shape()[d];
  typename Tensor::shape_type out_shape(v.shape().begin(), v.shape().end());
  if (keepdims) {
    out_shape[ax] = 1;
  } else {
    out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(ax));
  }
  Tensor out = empty_tensor<Scalar>(out_shape);
  Scalar* o = out.data();
  std::fill(o, o + out.size(), Scalar(0));
  for (std::size_t a = 0; a < outer; ++a) {
    for (std::size_t i = 0; i < n; ++i) {
      const Scalar* xi = v.data() + (a * n + i) * inner;
      Scalar* oa = o + a * inner;
      for (std::size_t j = 0; j < inner; ++j) oa[j] += xi[j];
    }
  }
  if (average) {  // an empty axis (n = 0): NaN (0/0), as PyTorch and numpy
    for (std::size_t k = 0; k < out.size(); ++k) o[k] = n == 0 ? std::numeric_limits<Scalar>::quiet_NaN() : o[k] * scale;
  }
  return make_result(op, std::move(out), {x}, [outer, n, inner, scale, ax](Node& self) {
    // dx[a, i, j] = g[a, j] (÷ n for mean): g broadcast along the reduced axis
    if (self.grad_node) {  // the same with ops: g with the axis kept as 1, broadcast, scaled
      const Shape x_shape = shape_of(self.parents[0]->value);
      Shape kept = x_shape;
      kept[ax] = 1;
      add_variable_to_parent(self, 0, broadcast_to(reshape(Variable(self.grad_node), kept), x_shape) * scale);
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    const Scalar* g = self.grad.data();
    for (std::size_t a = 0; a < outer; ++a) {
      for (std::size_t i = 0; i < n; ++i) {
        Scalar* di = dx + (a * n + i) * inner;
        const Scalar* ga = g + a * inner;
        if (beta == 0) {
          for (std::size_t j = 0; j < inner; ++j) di[j] = ga[j] * scale;
        } else {
          for (std::size_t j = 0; j < inner; ++j) di[j] += ga[j] * scale;
        }
      }
    }
  });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> sum(const BasicVariable<Scalar>& x) { return reduce_all("sum", x, false); }
template <class Scalar>
BasicVariable<Scalar> mean(const BasicVariable<Scalar>& x) { return reduce_all("mean", x, true); }
template <class Scalar>
BasicVariable<Scalar> sum(const BasicVariable<Scalar>& x, int axis, bool keepdims) {
  return reduce_axis("sum", x, axis, keepdims, false);
}
template <class Scalar>
BasicVariable<Scalar> mean(const BasicVariable<Scalar>& x, int axis, bool keepdims) {
  return reduce_axis("mean", x, axis, keepdims, true);
}

#define XTGRAD_INSTANTIATE_REDUCTIONS(T)                                      \
  template BasicVariable<T> sum(const BasicVariable<T>&);                     \
  template BasicVariable<T> mean(const BasicVariable<T>&);                    \
  template BasicVariable<T> sum(const BasicVariable<T>&, int, bool);          \
  template BasicVariable<T> mean(const BasicVariable<T>&, int, bool);
XTGRAD_INSTANTIATE_REDUCTIONS(float)
XTGRAD_INSTANTIATE_REDUCTIONS(double)
#undef XTGRAD_INSTANTIATE_REDUCTIONS

}  // namespace xtgrad
