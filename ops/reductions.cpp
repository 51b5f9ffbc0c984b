#include "xtgrad/ops/reductions.hpp"

#include <stdexcept>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

// g broadcast back to the input shape; `kept` is the reduced shape with size-1 axes.
Tensor spread(const Tensor& g, const Shape& kept, const Shape& input_shape, Scalar scale) {
  Tensor gk = g;
  gk.reshape(kept);
  Tensor out = xt::broadcast(gk * scale, input_shape);
  return out;
}

Variable reduce_all(const char* op, const Variable& x, bool average) {
  const Tensor& v = x.value();
  const std::size_t n = v.size();
  if (average && n == 0) throw std::invalid_argument(std::string(op) + ": mean of an empty tensor of shape " + shape_str(v));
  double total = 0;  // accumulate in double: a float sum of 2e7 ones is 1.67e7
  for (std::size_t i = 0; i < n; ++i) total += v.data()[i];
  const Scalar scale = average ? Scalar(1) / static_cast<Scalar>(n) : Scalar(1);
  Tensor result = scalar_tensor(static_cast<Scalar>(average ? total / double(n) : total));
  return make_result(op, std::move(result), {x}, [scale](Node& self) {
    // dx = g (or g / n) at every element
    const Scalar g = self.grad.data()[0] * scale;
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    const std::size_t count = self.parent_value(0).size();
    if (beta == 0) {
      std::fill(dx, dx + count, g);
    } else {
      for (std::size_t k = 0; k < count; ++k) dx[k] += g;
    }
  });
}

Variable reduce_axis(const char* op, const Variable& x, int axis, bool keepdims, bool average) {
  const Tensor& v = x.value();
  const std::size_t ax = normalize_axis(op, v, axis);
  const std::size_t n = v.shape()[ax];
  if (average && n == 0) throw std::invalid_argument(std::string(op) + ": mean over an empty axis of shape " + shape_str(v));
  const Scalar scale = average ? Scalar(1) / static_cast<Scalar>(n) : Scalar(1);
  Tensor kept = xt::sum(v, {ax}, xt::keep_dims | xt::evaluation_strategy::immediate);
  if (average) kept *= scale;
  const Shape kept_shape = shape_of(kept);
  const Shape in_shape = shape_of(v);
  if (!keepdims) {
    Shape squeezed = in_shape;
    squeezed.erase(squeezed.begin() + static_cast<std::ptrdiff_t>(ax));
    kept.reshape(squeezed);
  }
  return make_result(op, std::move(kept), {x}, [kept_shape, in_shape, scale](Node& self) {
    // dx = g broadcast along the reduced axis (÷ n for mean)
    self.add_to_parent(0, spread(self.grad, kept_shape, in_shape, scale));
  });
}

}  // namespace

Variable sum(const Variable& x) { return reduce_all("sum", x, false); }
Variable mean(const Variable& x) { return reduce_all("mean", x, true); }
Variable sum(const Variable& x, int axis, bool keepdims) { return reduce_axis("sum", x, axis, keepdims, false); }
Variable mean(const Variable& x, int axis, bool keepdims) { return reduce_axis("mean", x, axis, keepdims, true); }

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
