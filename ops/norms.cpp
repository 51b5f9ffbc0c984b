#include "xtgrad/ops/norms.hpp"

#include <cmath>

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Variable l1(const Variable& w) {
  const Tensor& v = w.value();
  double total = 0;
  for (std::size_t i = 0; i < v.size(); ++i) total += std::abs(double(v.data()[i]));
  return make_result("l1", Tensor(static_cast<Scalar>(total)), {w}, [](Node& self) {
    // dw = g·sign(w) : shape of w
    self.add_to_parent(0, self.grad.data()[0] * xt::sign(self.parent_value(0)));
  });
}

Variable squared_l2(const Variable& w) {
  const Tensor& v = w.value();
  double total = 0;
  for (std::size_t i = 0; i < v.size(); ++i) total += double(v.data()[i]) * double(v.data()[i]);
  return make_result("squared_l2", Tensor(static_cast<Scalar>(total)), {w}, [](Node& self) {
    // dw = 2g·w : shape of w
    self.add_to_parent(0, (Scalar(2) * self.grad.data()[0]) * self.parent_value(0));
  });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
