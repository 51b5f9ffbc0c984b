#include "xtgrad/core/variable.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {

template <class T>
BasicVariable<T>::BasicVariable(Tensor value, bool requires_grad) : node_(make_node<T>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

template <class T>
BasicVariable<T> BasicVariable<T>::scalar(Scalar value) {
  BasicVariable v(scalar_tensor(value));
  v.node_->recycle_value = true;  // the library's buffer, not the user's
  return v;
}

template <class T>
BasicVariable<T> BasicVariable<T>::parameter(Tensor value, std::string name) {
  BasicVariable v(std::move(value), true);
  v.node_->name = std::move(name);
  return v;
}

template <class T>
BasicNode<T>& BasicVariable<T>::checked_node(const char* what) const {
  if (!node_) throw std::logic_error(std::string("Variable::") + what + ": the variable is empty");
  return *node_;
}

template <class T>
const TensorOf<T>& BasicVariable<T>::value() const { return checked_node("value").value; }
template <class T>
TensorOf<T>& BasicVariable<T>::mutable_value() {
  Node& n = checked_node("mutable_value");
  ++n.version;
  return n.value;
}
template <class T>
std::uint32_t BasicVariable<T>::version() const { return checked_node("version").version; }
template <class T>
Shape BasicVariable<T>::shape() const { return shape_of(checked_node("shape").value); }
template <class T>
std::size_t BasicVariable<T>::size() const { return checked_node("size").value.size(); }
template <class T>
std::size_t BasicVariable<T>::dim() const { return checked_node("dim").value.dimension(); }

template <class T>
T BasicVariable<T>::item() const {
  const Tensor& v = checked_node("item").value;
  if (v.size() != 1) {
    throw std::invalid_argument("item: needs a one-element value, got shape " + shape_str(v));
  }
  return v.data()[0];
}

template <class T>
bool BasicVariable<T>::requires_grad() const { return checked_node("requires_grad").requires_grad; }

template <class T>
void BasicVariable<T>::set_requires_grad(bool requires_grad) {
  Node& n = checked_node("set_requires_grad");
  if (n.backward_fn || n.released) {
    throw std::logic_error(std::string("set_requires_grad: only leaves can change it; this value was made by '") +
                           n.op + "' (use detach() first)");
  }
  n.requires_grad = requires_grad;
}

namespace {
// An interior node that keeps its gradient (retain_grad()) and has one.
template <class T>
bool has_retained(const BasicNode<T>& n) { return n.extras && n.extras->has_retained; }
}  // namespace

template <class T>
bool BasicVariable<T>::has_grad() const {
  const Node& n = checked_node("has_grad");
  return n.backward_fn || n.released ? has_retained(n) : n.has_grad;
}

template <class T>
const TensorOf<T>& BasicVariable<T>::grad() const {
  const Node& n = checked_node("grad");
  if (has_retained(n)) return n.extras->retained;
  if (!n.has_grad || n.backward_fn || n.released) {
    throw std::logic_error(std::string("grad: no gradient has been computed for this ") +
                           (n.name.empty() ? std::string("value") : "'" + n.name + "'") + " of shape " +
                           shape_str(n.value) +
                           " (call backward() first; constants never get one; interior values keep "
                           "theirs only after retain_grad())");
  }
  return n.grad;
}

template <class T>
BasicVariable<T> BasicVariable<T>::grad_variable() const {
  const Node& n = checked_node("grad_variable");
  if (has_retained(n) && n.extras->retained_node) return BasicVariable(n.extras->retained_node);
  if (!has_retained(n) && n.grad_node && n.has_grad) return BasicVariable(n.grad_node);
  return BasicVariable(Tensor(grad()), false);
}

template <class T>
TensorOf<T>& BasicVariable<T>::mutable_grad() {
  Tensor& g = const_cast<Tensor&>(grad());
  node_->grad_node.reset();  // changed by hand: its history no longer describes it
  if (node_->extras) node_->extras->retained_node.reset();
  return g;
}

template <class T>
void BasicVariable<T>::zero_grad() {
  Node& n = checked_node("zero_grad");
  n.has_grad = false;
  n.grad_node.reset();
  if (n.extras) {
    n.extras->has_retained = false;
    n.extras->retained_node.reset();
  }
}

template <class T>
BasicHookHandle<T> BasicVariable<T>::register_hook(GradHookOf<T> hook) {
  Node& n = checked_node("register_hook");
  if (!n.requires_grad) {
    throw std::logic_error("register_hook: this value (op '" + std::string(n.op) +
                           "') does not require grad, so it never gets a gradient");
  }
  if (!hook) throw std::invalid_argument("register_hook: the hook is empty");
  if (!n.extras) n.extras = std::make_unique<NodeExtras<Scalar>>();
  const std::uint64_t id = next_hook_id();
  n.extras->hooks.push_back(std::make_shared<GradHookEntry<Scalar>>(GradHookEntry<Scalar>{id, std::move(hook)}));
  return BasicHookHandle<T>(node_, id);
}

std::uint64_t next_hook_id() {
  static std::atomic<std::uint64_t> next_id{0};
  return next_id.fetch_add(1, std::memory_order_relaxed) + 1;
}

template <class T>
void BasicVariable<T>::retain_grad() {
  Node& n = checked_node("retain_grad");
  if (!n.backward_fn && !n.released) return;  // a leaf keeps its gradient anyway
  if (!n.extras) n.extras = std::make_unique<NodeExtras<Scalar>>();
  n.extras->retains_grad = true;
}

template <class T>
BasicHookHandle<T> BasicVariable<T>::register_post_accumulate_grad_hook(PostAccumulateGradHookOf<T> hook) {
  Node& n = checked_node("register_post_accumulate_grad_hook");
  if (n.backward_fn || n.released || !n.requires_grad) {
    throw std::logic_error(std::string("register_post_accumulate_grad_hook: only a leaf that requires grad has one; ") +
                           (n.requires_grad ? std::string("this value was made by '") + n.op + "'"
                                            : std::string("this one does not require grad")));
  }
  if (!hook) throw std::invalid_argument("register_post_accumulate_grad_hook: the hook is empty");
  const std::uint64_t id = next_hook_id();
  n.post_accumulate_grad_hooks.push_back(std::make_shared<LeafHook<Scalar>>(LeafHook<Scalar>{id, std::move(hook)}));
  return BasicHookHandle<T>(node_, id);
}

template <class T>
void BasicHookHandle<T>::remove() {
  const NodePtrOf<T> node = node_.lock();
  if (!node) return;
  // a sweep firing the hooks holds its own copy of the list, hence the `removed` mark
  const auto drop = [&](auto& hooks) {
    const auto it = std::find_if(hooks.begin(), hooks.end(), [&](const auto& h) { return h->id == id_; });
    if (it == hooks.end()) return false;
    (*it)->removed = true;
    hooks.erase(it);
    return true;
  };
  if (!drop(node->post_accumulate_grad_hooks) && node->extras) drop(node->extras->hooks);
  node_.reset();
}

template <class T>
BasicVariable<T> BasicVariable<T>::detach() const { return BasicVariable(Tensor(checked_node("detach").value), false); }

template <class T>
const char* BasicVariable<T>::op() const { return checked_node("op").op; }
template <class T>
const std::string& BasicVariable<T>::name() const { return checked_node("name").name; }
template <class T>
void BasicVariable<T>::set_name(std::string name) { checked_node("set_name").name = std::move(name); }

namespace {

template <class T, class Inputs>
BasicVariable<T> make_result_from(const char* op, TensorOf<T> value, const Inputs& inputs, BasicBackwardFn<T> backward) {
  NodePtrOf<T> node = make_node<T>();
  node->value = std::move(value);
  node->op = op;
  node->recycle_value = true;
  bool any = false;
  for (const BasicVariable<T>& in : inputs) {
    if (!in.defined()) throw std::invalid_argument(std::string(op) + ": an input variable is empty");
    any = any || in.node()->requires_grad;
  }
  if (any && is_grad_enabled()) {
    node->requires_grad = true;
    node->parents.reserve(inputs.size());
    std::size_t i = 0;
    for (const BasicVariable<T>& in : inputs) {
      if (i < kCheckedParents) node->saved_versions[i++] = in.node()->version;
      node->parents.push_back(in.node());
    }
    node->backward_fn = std::move(backward);
  }
  return BasicVariable<T>(std::move(node));
}

}  // namespace

template <class T>
BasicVariable<T> make_result(const char* op, NonDeduced<TensorOf<T>> value, std::initializer_list<BasicVariable<T>> inputs,
                             NonDeduced<BasicBackwardFn<T>> backward) {
  return make_result_from<T>(op, std::move(value), inputs, std::move(backward));
}

template <class T>
BasicVariable<T> make_result(const char* op, NonDeduced<TensorOf<T>> value, const std::vector<BasicVariable<T>>& inputs,
                             NonDeduced<BasicBackwardFn<T>> backward) {
  return make_result_from<T>(op, std::move(value), inputs, std::move(backward));
}

#define XTGRAD_INSTANTIATE(T)                                                                          \
  template class BasicVariable<T>;                                                                    \
  template class BasicHookHandle<T>;                                                                  \
  template BasicVariable<T> make_result(const char*, TensorOf<T>, std::initializer_list<BasicVariable<T>>, \
                                        BasicBackwardFn<T>);                                          \
  template BasicVariable<T> make_result(const char*, TensorOf<T>, const std::vector<BasicVariable<T>>&,    \
                                        BasicBackwardFn<T>);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
