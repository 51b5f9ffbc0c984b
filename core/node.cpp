#include "xtgrad/core/node.hpp"

#include <stdexcept>

#include "xtgrad/core/buffer_cache.hpp"

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Node::~Node() {
  // Take over the parents; a parent we hold the last reference to hands its own parents to
  // the worklist before it dies, so no destructor ever runs another one recursively.
  NodeList pending = std::move(parents);
  while (!pending.empty()) {
    NodePtr node = std::move(pending.back());
    pending.pop_back();
    if (node && node.use_count() == 1) {
      for (NodePtr& p : node->parents) pending.push_back(std::move(p));
      node->parents.clear();
      node->backward_fn = nullptr;
    }
  }
  if (recycle_value) recycle(value);
  recycle(grad);
}

NodePtr make_node() { return std::allocate_shared<Node>(SmallBlockAllocator<Node>()); }

void Node::add_to_parent(std::size_t i, Tensor&& contribution) const {
  accumulate_grad(*parents[i], std::move(contribution), op);
}

Tensor sum_to(const Tensor& t, const Shape& shape) {
  const std::size_t rank = t.dimension();
  const std::size_t target_rank = shape.size();
  if (target_rank > rank) {
    throw std::logic_error("sum_to: cannot reduce " + shape_str(t) + " to " + shape_str(shape));
  }
  const std::size_t lead = rank - target_rank;
  for (std::size_t k = 0; k < target_rank; ++k) {
    const std::size_t have = t.shape()[lead + k];
    if (have != shape[k] && shape[k] != 1) {
      throw std::logic_error("sum_to: cannot reduce " + shape_str(t) + " to " + shape_str(shape));
    }
  }
  Tensor result = t;
  if (lead > 0) {
    std::vector<std::size_t> axes(lead);
    for (std::size_t a = 0; a < lead; ++a) axes[a] = a;
    result = xt::sum(t, axes, xt::evaluation_strategy::immediate);
  }
  std::vector<std::size_t> ones_axes;
  for (std::size_t k = 0; k < target_rank; ++k) {
    if (shape[k] == 1 && result.shape()[k] != 1) ones_axes.push_back(k);
  }
  if (!ones_axes.empty()) {
    Tensor reduced = xt::sum(result, ones_axes, xt::keep_dims | xt::evaluation_strategy::immediate);
    result = std::move(reduced);
  }
  return result;
}

void accumulate_grad(Node& target, Tensor&& contribution, const char* op) {
  if (!target.requires_grad) return;
  const auto& want = target.value.shape();
  const auto& have = contribution.shape();
  const bool same = want.size() == have.size() && std::equal(want.begin(), want.end(), have.begin());
  if (!same) {
    const Shape target_shape = shape_of(target.value);
    try {
      contribution = sum_to(contribution, target_shape);
    } catch (const std::logic_error&) {
      throw std::logic_error(std::string(op) + ": backward produced a gradient of shape " +
                             shape_str(contribution) + " for an input of shape " +
                             shape_str(target_shape));
    }
  }
  if (!target.has_grad) {
    recycle(target.grad);
    target.grad = std::move(contribution);
    target.has_grad = true;
  } else {
    xt::noalias(target.grad) += contribution;
    recycle(contribution);
  }
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
