#include "xtgrad/ops/norms.hpp"

#include <cmath>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

// Σ f(x) in double with eight independent partial sums: exact enough for a loss, and not
// bound by the latency of one serial add chain (the penalty runs every training step).
template <class F>
double sum_of(const Tensor& v, F f) {
  const Scalar* x = v.data();
  const std::size_t n = v.size();
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t k = 0; k < 8; ++k) acc[k] += f(double(x[i + k]));
  for (; i < n; ++i) acc[0] += f(double(x[i]));
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace

Variable l1(const Variable& w) {
  const double total = sum_of(w.value(), [](double x) { return std::abs(x); });
  return make_result("l1", scalar_tensor(static_cast<Scalar>(total)), {w}, [](Node& self) {
    // dw = g·sign(w) : shape of w
    add_expr_to_parent(self, 0, self.grad.data()[0] * xt::sign(self.parent_value(0)));
  });
}

Variable squared_l2(const Variable& w) {
  const double total = sum_of(w.value(), [](double x) { return x * x; });
  return make_result("squared_l2", scalar_tensor(static_cast<Scalar>(total)), {w}, [](Node& self) {
    // dw = 2g·w : shape of w
    add_expr_to_parent(self, 0, (Scalar(2) * self.grad.data()[0]) * self.parent_value(0));
  });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
