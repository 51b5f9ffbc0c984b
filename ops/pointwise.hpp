// One-input elementwise ops written as two scalar functions: y = f(x) and dy/dx = df(x, y).
// Internal to the ops' sources. Plain loops with std:: maths: the value of an element depends
// only on that element (no SIMD body and scalar tail that disagree).
#pragma once

#include <utility>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// y = f(x) elementwise; backward dx += g ⊙ df(x, y). `f` and `df` are captured by value.
template <class F, class DF>
Variable pointwise(const char* op, const Variable& x, F f, DF df) {
  const Tensor& v = x.value();
  Tensor y = empty_like(v);
  const Scalar* xs = v.data();
  Scalar* ys = y.data();
  for (std::size_t k = 0; k < v.size(); ++k) ys[k] = f(xs[k]);
  return make_result(op, std::move(y), {x}, [df](Node& self) {
    const Scalar* xs = self.parent_value(0).data();
    const Scalar* ys = self.value.data();
    const Scalar* g = self.grad.data();
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    const std::size_t n = self.value.size();
    for (std::size_t k = 0; k < n; ++k) {
      const Scalar d = g[k] * df(xs[k], ys[k]);
      dx[k] = beta == 0 ? d : dx[k] + d;
    }
  });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
