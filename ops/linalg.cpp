#include "xtgrad/ops/linalg.hpp"

#include <stdexcept>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
namespace {

// d(x·W) for g = dL/d(xW) : (n, out); x : (n, in); W : (in, out). Shared by matmul and linear.
template <class Scalar>
void matmul_backward(BasicNode<Scalar>& self, const TensorOf<Scalar>& g) {
  using Tensor = TensorOf<Scalar>;
  const std::size_t n = self.parents[0]->value.shape()[0], in = self.parents[0]->value.shape()[1],
                    out = self.parents[1]->value.shape()[1];
  Scalar beta = 0;
  if (self.parent_requires_grad(0)) {
    // dx (+)= g·Wᵀ : (n, in), written into x's gradient storage
    const Tensor& w = self.parent_value(1);
    Scalar* dx = grad_target(self, 0, beta);
    gemm(false, true, n, in, out, 1, g.data(), w.data(), beta, dx);
  }
  if (self.parent_requires_grad(1)) {
    // dW (+)= xᵀ·g : (in, out), written into W's gradient storage
    const Tensor& x = self.parent_value(0);
    Scalar* dw = grad_target(self, 1, beta);
    gemm(true, false, in, out, n, 1, x.data(), g.data(), beta, dw);
  }
}

template <class Scalar>
void check_matmul(const char* op, const TensorOf<Scalar>& a, const TensorOf<Scalar>& b) {
  if (a.dimension() != 2 || b.dimension() != 2) {
    throw std::invalid_argument(std::string(op) + ": expects 2-d operands, got lhs " + shape_str(a) + ", rhs " +
                                shape_str(b));
  }
  if (a.shape()[1] != b.shape()[0]) {
    throw std::invalid_argument(std::string(op) + ": inner dimensions differ: lhs " + shape_str(a) + ", rhs " +
                                shape_str(b));
  }
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> matmul(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  check_matmul("matmul", av, bv);
  const std::size_t m = av.shape()[0], k = av.shape()[1], n = bv.shape()[1];
  Tensor out = empty_tensor<Scalar>({m, n});
  gemm(false, false, m, n, k, 1, av.data(), bv.data(), 0, out.data());
  return make_result("matmul", std::move(out), {a, b}, [](Node& self) {
    if (self.grad_node) {  // create_graph: da = g·bᵀ, db = aᵀ·g with ops
      const Variable g(self.grad_node);
      if (self.parent_requires_grad(0)) add_variable_to_parent(self, 0, matmul(g, transpose(input_variable(self, 1))));
      if (self.parent_requires_grad(1)) add_variable_to_parent(self, 1, matmul(transpose(input_variable(self, 0)), g));
      return;
    }
    matmul_backward(self, self.grad);
  });
}

template <class Scalar>
BasicVariable<Scalar> linear(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                             const BasicVariable<Scalar>& bias) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& xv = x.value();
  const Tensor& wv = weight.value();
  const Tensor& bv = bias.value();
  check_matmul("linear", xv, wv);
  const std::size_t n = xv.shape()[0], in = xv.shape()[1], out = wv.shape()[1];
  const bool bias_ok = (bv.dimension() == 1 && bv.shape()[0] == out) ||
                       (bv.dimension() == 2 && bv.shape()[0] == 1 && bv.shape()[1] == out);
  if (!bias_ok) {
    throw std::invalid_argument("linear: bias must have shape (" + std::to_string(out) + ") or (1, " +
                                std::to_string(out) + ") for weight " + shape_str(wv) + ", got " + shape_str(bv));
  }
  // y = 1·x·W + 1·b (each row of y starts as b)
  Tensor y = empty_tensor<Scalar>({n, out});
  for (std::size_t r = 0; r < n; ++r) std::copy(bv.data(), bv.data() + out, y.data() + r * out);
  gemm(false, false, n, out, in, 1, xv.data(), wv.data(), 1, y.data());
  return make_result("linear", std::move(y), {x, weight, bias}, [](Node& self) {
    if (self.grad_node) {  // create_graph: dx = g·Wᵀ, dW = xᵀ·g, db = Σ_rows g (sum_to) with ops
      const Variable g(self.grad_node);
      if (self.parent_requires_grad(0)) add_variable_to_parent(self, 0, matmul(g, transpose(input_variable(self, 1))));
      if (self.parent_requires_grad(1)) add_variable_to_parent(self, 1, matmul(transpose(input_variable(self, 0)), g));
      if (self.parent_requires_grad(2)) add_variable_to_parent(self, 2, g);
      return;
    }
    matmul_backward(self, self.grad);
    if (self.parent_requires_grad(2)) {
      // db (+)= Σ_rows g : (out), whatever the bias's own shape, (out) or (1, out)
      const Tensor& g = self.grad;
      const std::size_t rows = g.shape()[0], cols = g.shape()[1];
      Scalar beta = 0;
      Scalar* db = grad_target(self, 2, beta);
      if (beta == 0) std::fill(db, db + cols, Scalar(0));
      for (std::size_t r = 0; r < rows; ++r) {
        const Scalar* gr = g.data() + r * cols;
        for (std::size_t c = 0; c < cols; ++c) db[c] += gr[c];
      }
    }
  });
}

template <class Scalar>
BasicVariable<Scalar> transpose(const BasicVariable<Scalar>& x) {
  using Node = BasicNode<Scalar>;
  return make_result("transpose", evaluate(xt::transpose(x.value())), {x},
                     [](Node& self) { backward_linear(self, [](const auto& g) { return transpose(g); }); });
}

template <class Scalar>
BasicVariable<Scalar> reshape(const BasicVariable<Scalar>& x, const Shape& shape) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  if (element_count(shape) != x.size()) {
    throw std::invalid_argument("reshape: cannot view " + shape_str(x.value()) + " (" + std::to_string(x.size()) +
                                " elements) as " + shape_str(shape) + " (" + std::to_string(element_count(shape)) +
                                " elements)");
  }
  Tensor t = empty_tensor<Scalar>(shape);
  std::copy(x.value().data(), x.value().data() + x.size(), t.data());
  return make_result("reshape", std::move(t), {x}, [](Node& self) {
    // dx = g read in x's shape (same elements, same order)
    if (self.grad_node) {
      add_variable_to_parent(self, 0, reshape(Variable(self.grad_node), shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    const Scalar* g = self.grad.data();
    const std::size_t n = self.grad.size();
    if (beta == 0) {
      std::copy(g, g + n, dx);
    } else {
      for (std::size_t k = 0; k < n; ++k) dx[k] += g[k];
    }
  });
}

#define XTGRAD_INSTANTIATE(T)                                                                                      \
  template BasicVariable<T> matmul(const BasicVariable<T>&, const BasicVariable<T>&);                              \
  template BasicVariable<T> linear(const BasicVariable<T>&, const BasicVariable<T>&, const BasicVariable<T>&);     \
  template BasicVariable<T> transpose(const BasicVariable<T>&);                                                    \
  template BasicVariable<T> reshape(const BasicVariable<T>&, const Shape&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
