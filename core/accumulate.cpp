// The create_graph side of gradient accumulation (core/accumulate.hpp).
#include "xtgrad/core/accumulate.hpp"

#include "xtgrad/core/broadcast.hpp"

#include <stdexcept>
#include <string>

namespace xtgrad {

template <class T>
BasicVariable<T> grad_sum(const BasicVariable<T>& a, const BasicVariable<T>& b) {
  return make_result("grad_sum", evaluate(a.value() + b.value()), {a, b}, [](BasicNode<T>& self) {
    // da = g, db = g
    backward_linear(self, [](const auto& g) -> const auto& { return g; },
                    [](const auto& g) -> const auto& { return g; });
  });
}

template <class T>
void accumulate_variable(BasicNode<T>& target, const BasicVariable<T>& contribution) {
  if (!target.requires_grad) return;
  const Shape want(target.value.shape().begin(), target.value.shape().end());
  BasicVariable<T> c = contribution;
  if (!shapes_equal(c.value().shape(), want)) {
    try {
      c = sum_to(c, want);
    } catch (const std::invalid_argument&) {
      throw std::logic_error(std::string("backward: a gradient of shape ") + shape_str(c.value()) +
                             " was produced for an input of shape " + shape_str(target.value));
    }
  }
  if (target.grad_node) {
    target.grad_node = grad_sum(BasicVariable<T>(target.grad_node), c).node();
  } else if (!target.backward_fn && target.has_grad) {
    // a leaf with a gradient from an earlier pass, without history
    target.grad_node = grad_sum(BasicVariable<T>(TensorOf<T>(target.grad), false), c).node();
  } else {
    target.grad_node = c.node();
  }
}

void throw_first_order_only(const char* op) {
  throw std::logic_error(std::string(op) +
                         ": this op's backward is first-order only; create_graph (second derivatives) "
                         "through it is not supported yet");
}

template <class T>
BasicVariable<T> sign_of(const BasicVariable<T>& x) {
  return BasicVariable<T>(evaluate(xt::sign(x.value())), false);
}

#define XTGRAD_INSTANTIATE(T)                                                                  \
  template BasicVariable<T> grad_sum(const BasicVariable<T>&, const BasicVariable<T>&);        \
  template void accumulate_variable(BasicNode<T>&, const BasicVariable<T>&);                  \
  template BasicVariable<T> sign_of(const BasicVariable<T>&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
