// Evaluating ops' results into recycled buffers, and writing a gradient straight into a
// parent's buffer when no broadcasting is involved, so gradient storage is reused step after
// step instead of reallocated. Internal to the ops' sources (it pulls in xtensor's expression
// headers).
#pragma once

#include <algorithm>

#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/node.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// Whether two shapes (any containers of extents) are equal.
template <class A, class B>
bool shapes_equal(const A& a, const B& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// `expr` evaluated into a tensor from the buffer cache.
template <class E>
Tensor evaluate(const E& expr) {
  Tensor out = empty_tensor(expr.shape());
  xt::noalias(out) = expr;
  return out;
}

// Makes p.grad a buffer of p.value's shape (contents unspecified), reusing the one it has.
inline void shape_grad_storage(Node& p) {
  if (!shapes_equal(p.grad.shape(), p.value.shape())) {
    recycle(p.grad);
    p.grad = empty_like(p.value);
  }
}

// parents[i].grad += expr, evaluated in place when expr already has the parent's shape;
// otherwise through accumulate_grad (which reduces broadcast axes).
template <class E>
void add_expr_to_parent(Node& self, std::size_t i, const E& expr) {
  Node& p = *self.parents[i];
  if (!p.requires_grad) return;
  if (!shapes_equal(p.value.shape(), expr.shape())) {
    self.add_to_parent(i, evaluate(expr));
    return;
  }
  if (p.has_grad) {
    xt::noalias(p.grad) += expr;
    return;
  }
  shape_grad_storage(p);
  xt::noalias(p.grad) = expr;
  p.has_grad = true;
}

// The parent's gradient storage, shaped like its value, for an op that writes its share
// itself (gemm or a loop): `beta` is 1 when a gradient is already there (add to it), 0 when
// not (overwrite; the contents are unspecified).
inline Scalar* grad_target(Node& self, std::size_t i, Scalar& beta) {
  Node& p = *self.parents[i];
  if (p.has_grad) {
    beta = 1;
  } else {
    shape_grad_storage(p);
    beta = 0;
    p.has_grad = true;
  }
  return p.grad.data();
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
