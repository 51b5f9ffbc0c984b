#include "xtgrad/ops/linalg.hpp"

#include <algorithm>
#include <stdexcept>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
namespace {

// The product of all but the last axis of t: the rows of t read as a matrix (1 for a 1-d t).
template <class Scalar>
std::size_t leading_rows(const TensorOf<Scalar>& t) {
  std::size_t rows = 1;
  for (std::size_t d = 0; d + 1 < t.dimension(); ++d) rows *= t.shape()[d];
  return rows;
}

// How the right operand of a product is stored: matmul's b is (k, n) = (in, out); linear's
// weight is (out, in), as torch.nn.functional.linear's (y = x·Wᵀ + b).
enum class Rhs { in_out, out_in };

// d(x·W) (or d(x·Wᵀ)) for g = dL/dy : (rows, out); x : (..., in) read as (rows, in), rows the
// product of its leading axes (x is contiguous row-major: the fold is a pointer, never a copy).
// Shared by matmul (W (in, out)) and linear (W (out, in)); transposes are gemm flags, never copies.
template <class Scalar>
void matmul_backward(BasicNode<Scalar>& self, const TensorOf<Scalar>& g, Rhs rhs) {
  using Tensor = TensorOf<Scalar>;
  const Tensor& x0 = self.parents[0]->value;
  const std::size_t in = x0.shape()[x0.dimension() - 1], out = g.shape()[g.dimension() - 1];
  const std::size_t rows = leading_rows(x0);
  const bool out_in = rhs == Rhs::out_in;
  Scalar beta = 0;
  if (self.parent_requires_grad(0)) {
    // dx (+)= g·Wᵀ (in, out) or g·W (out, in) : (rows, in), written into x's gradient storage
    const Tensor& w = self.parent_value(1);
    Scalar* dx = grad_target(self, 0, beta);
    gemm(false, !out_in, rows, in, out, 1, g.data(), w.data(), beta, dx);
  }
  if (self.parent_requires_grad(1)) {
    // dW (+)= xᵀ·g : (in, out), or gᵀ·x : (out, in), a k-sum over all rows, written into W's gradient
    const Tensor& x = self.parent_value(0);
    Scalar* dw = grad_target(self, 1, beta);
    if (out_in) {
      gemm(true, false, out, in, rows, 1, g.data(), x.data(), beta, dw);
    } else {
      gemm(true, false, in, out, rows, 1, x.data(), g.data(), beta, dw);
    }
  }
}

// lhs (..., m, k) of rank >= min_rank, rhs (k, n).
template <class Scalar>
void check_matmul(const char* op, const TensorOf<Scalar>& a, const TensorOf<Scalar>& b, std::size_t min_rank) {
  if (a.dimension() < min_rank || b.dimension() != 2) {
    throw std::invalid_argument(std::string(op) + ": expects lhs (..., " + (min_rank == 2 ? "m, " : "") +
                                "k) and a 2-d rhs (k, n), got lhs " + shape_str(a) + ", rhs " + shape_str(b));
  }
  if (a.shape()[a.dimension() - 1] != b.shape()[0]) {
    throw std::invalid_argument(std::string(op) + ": inner dimensions differ: lhs " + shape_str(a) + ", rhs " +
                                shape_str(b));
  }
}

// create_graph shares of y = x·W (W (in, out)) or x·Wᵀ (W (out, in)) for x (..., in) and g (..., out):
// dx = g·Wᵀ or g·W, dW = x2dᵀ·g2d or g2dᵀ·x2d, with ops (x2d, g2d: the leading axes folded by
// reshape, a copy; this path records a graph anyway).
template <class Scalar>
void matmul_backward_graph(BasicNode<Scalar>& self, Rhs rhs) {
  using Variable = BasicVariable<Scalar>;
  const Variable g(self.grad_node), x = input_variable(self, 0), w = input_variable(self, 1);
  const bool out_in = rhs == Rhs::out_in;
  const std::size_t in = w.value().shape()[out_in ? 1 : 0], out = w.value().shape()[out_in ? 0 : 1];
  const bool flat = x.value().dimension() == 2;
  const std::size_t rows = leading_rows(x.value());
  const Variable g2 = flat ? g : reshape(g, Shape{rows, out});
  if (self.parent_requires_grad(0)) {
    const Variable dx = matmul(g2, out_in ? w : transpose(w));
    add_variable_to_parent(self, 0, flat ? dx : reshape(dx, shape_of(x.value())));
  }
  if (self.parent_requires_grad(1)) {
    const Variable x2 = flat ? x : reshape(x, Shape{rows, in});
    add_variable_to_parent(self, 1, out_in ? matmul(transpose(g2), x2) : matmul(transpose(x2), g2));
  }
  if (self.parents.size() > 2 && self.parent_requires_grad(2)) add_variable_to_parent(self, 2, g2);  // db = Σ_rows g
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> matmul(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  check_matmul("matmul", av, bv, 2);
  // (..., m, k)·(k, n): the leading axes and m fold into the rows of one gemm
  const std::size_t k = bv.shape()[0], n = bv.shape()[1], rows = leading_rows(av);
  typename Tensor::shape_type shape = av.shape();
  shape.back() = n;
  Tensor out = empty_tensor<Scalar>(shape);
  if (k == 0) std::fill(out.begin(), out.end(), Scalar(0));  // an empty k-sum
  gemm(false, false, rows, n, k, 1, av.data(), bv.data(), 0, out.data());
  return make_result("matmul", std::move(out), {a, b}, [](Node& self) {
    if (self.grad_node) {  // create_graph: da = g·bᵀ, db = aᵀ·g with ops
      matmul_backward_graph(self, Rhs::in_out);
      return;
    }
    matmul_backward(self, self.grad, Rhs::in_out);
  });
}

namespace {

// x (..., in) of rank >= 1 and W (out, in); b (out) or (1, out) when given.
template <class Scalar>
void check_linear(const TensorOf<Scalar>& x, const TensorOf<Scalar>& w, const TensorOf<Scalar>* b) {
  if (x.dimension() < 1 || w.dimension() != 2) {
    throw std::invalid_argument("linear: expects x (..., in) and a 2-d weight (out, in), got x " + shape_str(x) +
                                ", weight " + shape_str(w));
  }
  if (x.shape()[x.dimension() - 1] != w.shape()[1]) {
    throw std::invalid_argument("linear: x's last axis must equal the weight's in (the weight is (out, in), as "
                                "torch.nn.functional.linear's), got x " +
                                shape_str(x) + ", weight " + shape_str(w));
  }
  if (!b) return;
  const std::size_t out = w.shape()[0];
  const bool bias_ok = (b->dimension() == 1 && b->shape()[0] == out) ||
                       (b->dimension() == 2 && b->shape()[0] == 1 && b->shape()[1] == out);
  if (!bias_ok) {
    throw std::invalid_argument("linear: bias must have shape (" + std::to_string(out) + ") or (1, " +
                                std::to_string(out) + ") for weight " + shape_str(w) + ", got " + shape_str(*b));
  }
}

// y = x·Wᵀ (+ b) for x (..., in), W (out, in): the leading axes of x fold into the rows of one
// gemm with W's transpose as a flag (no copy); with a bias, each row of y starts as b and gemm
// adds the product on top (β = 1). Backward: dx = g·W, dW = g2dᵀ·x2d, db = Σ_rows g.
template <class Scalar>
BasicVariable<Scalar> linear_impl(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                                  const BasicVariable<Scalar>* bias) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& xv = x.value();
  const Tensor& wv = weight.value();
  check_linear(xv, wv, bias ? &bias->value() : nullptr);
  const std::size_t out = wv.shape()[0], in = wv.shape()[1];
  typename Tensor::shape_type shape = xv.shape();
  shape.back() = out;
  Tensor y = empty_tensor<Scalar>(shape);
  const std::size_t rows = leading_rows(xv);
  if (bias) {
    const Scalar* b = bias->value().data();
    parallel_for(0, rows, std::max<std::size_t>(1, kElementwiseGrain / std::max<std::size_t>(out, 1)),
                 [&](std::size_t r0, std::size_t r1) {
                   for (std::size_t r = r0; r < r1; ++r) std::copy(b, b + out, y.data() + r * out);
                 });
  } else if (in == 0) {
    std::fill(y.begin(), y.end(), Scalar(0));  // an empty k-sum, β = 0 below
  }
  gemm(false, true, rows, out, in, 1, xv.data(), wv.data(), bias ? 1 : 0, y.data());
  auto backward = [](Node& self) {
    if (self.grad_node) {  // create_graph: dx = g·W, dW = gᵀ·x, db = Σ_rows g (sum_to) with ops
      matmul_backward_graph(self, Rhs::out_in);
      return;
    }
    matmul_backward(self, self.grad, Rhs::out_in);
    if (self.parents.size() > 2 && self.parent_requires_grad(2)) {
      // db (+)= Σ_rows g : (out), whatever the bias's own shape, (out) or (1, out)
      const Tensor& g = self.grad;
      const std::size_t cols = g.shape()[g.dimension() - 1], rows = leading_rows(g);
      Scalar beta = 0;
      Scalar* db = grad_target(self, 2, beta);
      if (beta == 0) std::fill(db, db + cols, Scalar(0));
      for (std::size_t r = 0; r < rows; ++r) {
        const Scalar* gr = g.data() + r * cols;
        for (std::size_t c = 0; c < cols; ++c) db[c] += gr[c];
      }
    }
  };
  if (bias) return make_result("linear", std::move(y), {x, weight, *bias}, backward);
  return make_result("linear", std::move(y), {x, weight}, backward);
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> linear(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight,
                             const BasicVariable<Scalar>& bias) {
  return linear_impl(x, weight, &bias);
}

template <class Scalar>
BasicVariable<Scalar> linear(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& weight) {
  return linear_impl<Scalar>(x, weight, nullptr);
}

template <class Scalar>
BasicVariable<Scalar> transpose(const BasicVariable<Scalar>& x) {
  using Node = BasicNode<Scalar>;
  return make_result("transpose", evaluate(xt::transpose(x.value())), {x},
                     [](Node& self) { backward_linear(self, [](const auto& g) { return transpose(g); }); });
}

namespace {

// reshape for a shape given as any container of extents: a Shape, or a braced list kept in the
// tensor's own shape type (inline up to rank 4), so that reshape(x, {n, d}) calls no malloc.
template <class Scalar, class S>
BasicVariable<Scalar> reshape_to(const BasicVariable<Scalar>& x, const S& shape) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  std::size_t count = 1;
  for (std::size_t e : shape) count *= e;
  if (count != x.size()) {
    const Shape s(shape.begin(), shape.end());
    throw std::invalid_argument("reshape: cannot view " + shape_str(x.value()) + " (" + std::to_string(x.size()) +
                                " elements) as " + shape_str(s) + " (" + std::to_string(count) + " elements)");
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

}  // namespace

template <class Scalar>
BasicVariable<Scalar> reshape(const BasicVariable<Scalar>& x, const Shape& shape) {
  return reshape_to(x, shape);
}

template <class Scalar>
BasicVariable<Scalar> reshape(const BasicVariable<Scalar>& x, std::initializer_list<std::size_t> shape) {
  return reshape_to(x, typename TensorOf<Scalar>::shape_type(shape.begin(), shape.end()));
}

#define XTGRAD_INSTANTIATE(T)                                                                                      \
  template BasicVariable<T> matmul(const BasicVariable<T>&, const BasicVariable<T>&);                              \
  template BasicVariable<T> linear(const BasicVariable<T>&, const BasicVariable<T>&, const BasicVariable<T>&);     \
  template BasicVariable<T> linear(const BasicVariable<T>&, const BasicVariable<T>&);                              \
  template BasicVariable<T> transpose(const BasicVariable<T>&);                                                    \
  template BasicVariable<T> reshape(const BasicVariable<T>&, const Shape&);                                        \
  template BasicVariable<T> reshape(const BasicVariable<T>&, std::initializer_list<std::size_t>);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
