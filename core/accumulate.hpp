// Writing a gradient straight into a parent's buffer when no broadcasting is involved, so a
// parameter's gradient storage is reused step after step instead of reallocated. Internal to
// the ops' sources (it pulls in xtensor's expression headers).
#pragma once

#include <algorithm>

#include "xtgrad/core/node.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// parents[i].grad += expr, evaluated in place when expr already has the parent's shape;
// otherwise through accumulate_grad (which reduces broadcast axes).
template <class E>
void add_expr_to_parent(Node& self, std::size_t i, const E& expr) {
  Node& p = *self.parents[i];
  if (!p.requires_grad) return;
  const auto& want = p.value.shape();
  const auto& have = expr.shape();
  const bool same = want.size() == have.size() && std::equal(want.begin(), want.end(), have.begin());
  if (same) {
    if (p.has_grad) {
      xt::noalias(p.grad) += expr;
      return;
    }
    if (p.grad.shape().size() == want.size() && std::equal(want.begin(), want.end(), p.grad.shape().begin())) {
      xt::noalias(p.grad) = expr;
      p.has_grad = true;
      return;
    }
  }
  self.add_to_parent(i, Tensor(expr));
}

// The parent's gradient storage, shaped like its value, for an op that writes its share with
// gemm: `beta` is 1 when a gradient is already there (add to it), 0 when not (overwrite).
inline Scalar* gemm_grad_target(Node& self, std::size_t i, Scalar& beta) {
  Node& p = *self.parents[i];
  if (p.has_grad) {
    beta = 1;
  } else {
    const auto& want = p.value.shape();
    if (!(p.grad.shape().size() == want.size() && std::equal(want.begin(), want.end(), p.grad.shape().begin()))) {
      p.grad.resize(want);
    }
    beta = 0;
    p.has_grad = true;
  }
  return p.grad.data();
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
