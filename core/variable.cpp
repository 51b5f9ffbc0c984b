#include "xtgrad/core/variable.hpp"

#include <stdexcept>

#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Variable::Variable(Tensor value, bool requires_grad) : node_(make_node()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

Variable Variable::scalar(Scalar value) {
  Variable v(scalar_tensor(value));
  v.node_->recycle_value = true;  // the library's buffer, not the user's
  return v;
}

Variable Variable::parameter(Tensor value, std::string name) {
  Variable v(std::move(value), true);
  v.node_->name = std::move(name);
  return v;
}

Node& Variable::checked_node(const char* what) const {
  if (!node_) throw std::logic_error(std::string("Variable::") + what + ": the variable is empty");
  return *node_;
}

const Tensor& Variable::value() const { return checked_node("value").value; }
Tensor& Variable::mutable_value() { return checked_node("mutable_value").value; }
Shape Variable::shape() const { return shape_of(checked_node("shape").value); }
std::size_t Variable::size() const { return checked_node("size").value.size(); }
std::size_t Variable::dim() const { return checked_node("dim").value.dimension(); }

Scalar Variable::item() const {
  const Tensor& v = checked_node("item").value;
  if (v.size() != 1) {
    throw std::invalid_argument("item: needs a one-element value, got shape " + shape_str(v));
  }
  return v.data()[0];
}

bool Variable::requires_grad() const { return checked_node("requires_grad").requires_grad; }

void Variable::set_requires_grad(bool requires_grad) {
  Node& n = checked_node("set_requires_grad");
  if (n.backward_fn || n.released) {
    throw std::logic_error(std::string("set_requires_grad: only leaves can change it; this value was made by '") +
                           n.op + "' (use detach() first)");
  }
  n.requires_grad = requires_grad;
}

bool Variable::has_grad() const { return checked_node("has_grad").has_grad; }

const Tensor& Variable::grad() const {
  const Node& n = checked_node("grad");
  if (!n.has_grad) {
    throw std::logic_error(std::string("grad: no gradient has been computed for this ") +
                           (n.name.empty() ? std::string("value") : "'" + n.name + "'") + " of shape " +
                           shape_str(n.value) + " (call backward() first; constants never get one)");
  }
  return n.grad;
}

Tensor& Variable::mutable_grad() { return const_cast<Tensor&>(grad()); }

void Variable::zero_grad() { checked_node("zero_grad").has_grad = false; }

Variable Variable::detach() const { return Variable(Tensor(checked_node("detach").value), false); }

const char* Variable::op() const { return checked_node("op").op; }
const std::string& Variable::name() const { return checked_node("name").name; }
void Variable::set_name(std::string name) { checked_node("set_name").name = std::move(name); }

namespace {

template <class Inputs>
Variable make_result_from(const char* op, Tensor value, const Inputs& inputs, BackwardFn backward) {
  NodePtr node = make_node();
  node->value = std::move(value);
  node->op = op;
  node->recycle_value = true;
  bool any = false;
  for (const Variable& in : inputs) {
    if (!in.defined()) throw std::invalid_argument(std::string(op) + ": an input variable is empty");
    any = any || in.node()->requires_grad;
  }
  if (any && is_grad_enabled()) {
    node->requires_grad = true;
    node->parents.reserve(inputs.size());
    for (const Variable& in : inputs) node->parents.push_back(in.node());
    node->backward_fn = std::move(backward);
  }
  return Variable(std::move(node));
}

}  // namespace

Variable make_result(const char* op, Tensor value, std::initializer_list<Variable> inputs, BackwardFn backward) {
  return make_result_from(op, std::move(value), inputs, std::move(backward));
}

Variable make_result(const char* op, Tensor value, const std::vector<Variable>& inputs, BackwardFn backward) {
  return make_result_from(op, std::move(value), inputs, std::move(backward));
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
