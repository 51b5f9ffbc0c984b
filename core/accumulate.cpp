// The create_graph side of gradient accumulation (core/accumulate.hpp).
#include "xtgrad/core/accumulate.hpp"

#include "xtgrad/core/broadcast.hpp"

#include <stdexcept>
#include <string>

namespace xtgrad {
inline namespace XTGRAD_ABI {

Variable grad_sum(const Variable& a, const Variable& b) {
  return make_result("grad_sum", evaluate(a.value() + b.value()), {a, b}, [](Node& self) {
    // da = g, db = g
    backward_linear(self, [](const auto& g) -> const auto& { return g; },
                    [](const auto& g) -> const auto& { return g; });
  });
}

void accumulate_variable(Node& target, const Variable& contribution) {
  if (!target.requires_grad) return;
  const Shape want(target.value.shape().begin(), target.value.shape().end());
  Variable c = contribution;
  if (!shapes_equal(c.value().shape(), want)) {
    try {
      c = sum_to(c, want);
    } catch (const std::invalid_argument&) {
      throw std::logic_error(std::string("backward: a gradient of shape ") + shape_str(c.value()) +
                             " was produced for an input of shape " + shape_str(target.value));
    }
  }
  if (target.grad_node) {
    target.grad_node = grad_sum(Variable(target.grad_node), c).node();
  } else if (!target.backward_fn && target.has_grad) {
    // a leaf with a gradient from an earlier pass, without history
    target.grad_node = grad_sum(Variable(Tensor(target.grad), false), c).node();
  } else {
    target.grad_node = c.node();
  }
}

void throw_first_order_only(const Node& self) {
  throw std::logic_error(std::string(self.op) +
                         ": this op's backward is first-order only; create_graph (second derivatives) "
                         "through it is not supported yet");
}

Variable sign_of(const Variable& x) { return Variable(evaluate(xt::sign(x.value())), false); }

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
