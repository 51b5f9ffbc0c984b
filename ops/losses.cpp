#include "xtgrad/ops/losses.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/reductions.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/simd_math.hpp"

namespace xtgrad {
namespace {

// Row-wise softmax of z (n, c), max-shifted: p = e^(z − m) / s and log p = z − m − log s,
// with m the row maximum and s = Σ_c e^(z − m) summed in double.
template <class Scalar>
struct RowSoftmax {
  TensorOf<Scalar> p;
  TensorOf<Scalar> log_p;
  double total = 0;  // Σ over rows of row_loss
};

// Rows of at least this many elements per thread: one e^x per element.
inline std::size_t row_grain(std::size_t c) { return std::max<std::size_t>(1, kExpGrain / c); }

// The row softmax of z, and the sum over rows of row_loss(i, log p_i) (a double, minus the
// loss terms accumulated from 0, row after row). Rows split across the threads above
// kExpGrain elements; the row sums of each chunk are added in chunk order, so the
// total is the same for a given thread count (and on one thread the left-to-right sum).
template <class Scalar, class RowLoss>
RowSoftmax<Scalar> row_softmax(const TensorOf<Scalar>& z, const RowLoss& row_loss) {
  const std::size_t n = z.shape()[0], c = z.shape()[1];
  RowSoftmax<Scalar> r{empty_like(z), empty_like(z)};
  auto rows = [&](std::size_t i0, std::size_t i1) {
    double total = 0;
    for (std::size_t i = i0; i < i1; ++i) {
      const Scalar* zi = z.data() + i * c;
      Scalar* pi = r.p.data() + i * c;
      Scalar* li = r.log_p.data() + i * c;
      Scalar m = zi[0];
      for (std::size_t j = 1; j < c; ++j) m = zi[j] > m ? zi[j] : m;
      for (std::size_t j = 0; j < c; ++j) li[j] = zi[j] - m;  // z − m for now
      exp_range(li, pi, c);  // vectorised, the values of exp_into; subnormal probabilities kept
      double s = 0;
      for (std::size_t j = 0; j < c; ++j) s += double(pi[j]);
      const Scalar log_s = static_cast<Scalar>(std::log(s)), inv_s = static_cast<Scalar>(1.0 / s);
      for (std::size_t j = 0; j < c; ++j) {
        pi[j] *= inv_s;
        li[j] -= log_s;
      }
      row_loss(i, li, total);
    }
    return total;
  };
  r.total = parallel_reduce(0, n, row_grain(c), 0.0, rows, [](double a, double b) { return a + b; });
  return r;
}

// Logits (n, classes), classes > 0. n = 0 (an empty batch) is allowed: the mean over zero rows
// is NaN, as mean() and PyTorch (docs/ops.md, "Reductions over zero elements").
template <class Scalar>
void check_logits(const char* op, const TensorOf<Scalar>& z) {
  if (z.dimension() != 2 || z.shape()[1] == 0) {
    throw std::invalid_argument(std::string(op) + ": expects logits of shape (n, classes) with classes > 0, got " +
                                shape_str(z));
  }
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> cross_entropy(const BasicVariable<Scalar>& logits, const BasicVariable<Scalar>& targets) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& z = logits.value();
  const Tensor& y = targets.value();
  check_logits("cross_entropy", z);
  if (y.dimension() == 1 && y.shape()[0] == z.shape()[0]) {  // class indices held as floats
    return cross_entropy(logits, to_index_tensor(y, "cross_entropy"));
  }
  check_same_shape("cross_entropy", z, y, "logits", "targets");
  const std::size_t n = z.shape()[0], c = z.shape()[1];
  RowSoftmax<Scalar> sm = row_softmax(z, [&](std::size_t i, const Scalar* log_p, double& total) {
    const Scalar* yi = y.data() + i * c;
    for (std::size_t j = 0; j < c; ++j) total -= double(yi[j]) * double(log_p[j]);
  });
  const double total = sm.total;
  return make_result("cross_entropy", scalar_tensor(static_cast<Scalar>(total / double(n))), {logits, targets},
                     [p = SavedTensor(std::move(sm.p)), log_p = SavedTensor(std::move(sm.log_p)), n, c](Node& self) {
    if (self.grad_node) {  // create_graph: the formulas below with ops
      const Variable g = Variable(self.grad_node) * (1.0 / double(n)), z = input_variable(self, 0),
                     y = input_variable(self, 1);
      if (self.parent_requires_grad(0)) add_variable_to_parent(self, 0, g * (softmax(z, 1) * sum(y, 1, true) - y));
      if (self.parent_requires_grad(1)) add_variable_to_parent(self, 1, -g * log_softmax(z, 1));
      return;
    }
    const Scalar g = self.grad.data()[0] / static_cast<Scalar>(n);
    const Tensor& y = self.parent_value(1);
    if (self.parent_requires_grad(0)) {
      // dz = g·(p ⊙ Σ_c y − y) : (n, c), row by row
      bool accumulate = false;
      Scalar* dz = grad_target(self, 0, accumulate);
      const Scalar* ps = p.get().data();
      parallel_for(0, n, std::max<std::size_t>(1, kElementwiseGrain / c), [&](std::size_t i0, std::size_t i1) {
        for (std::size_t i = i0; i < i1; ++i) {
          const Scalar* yi = y.data() + i * c;
          const Scalar* pi = ps + i * c;
          Scalar* di = dz + i * c;
          Scalar mass = 0;
          for (std::size_t j = 0; j < c; ++j) mass += yi[j];
          for (std::size_t j = 0; j < c; ++j) {
            const Scalar d = g * (pi[j] * mass - yi[j]);
            di[j] = accumulate ? di[j] + d : d;
          }
        }
      });
    }
    // dy = −g·log p : (n, c)
    if (self.parent_requires_grad(1)) add_expr_to_parent(self, 1, -g * log_p.get());
  });
}

template <class Scalar>
BasicVariable<Scalar> cross_entropy(const BasicVariable<Scalar>& logits, const std::vector<std::size_t>& labels) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& z = logits.value();
  check_logits("cross_entropy", z);
  const std::size_t n = z.shape()[0], c = z.shape()[1];
  if (labels.size() != n) {
    throw std::invalid_argument("cross_entropy: " + std::to_string(labels.size()) + " labels for logits of shape " +
                                shape_str(z));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] >= c) {
      throw std::invalid_argument("cross_entropy: label " + std::to_string(labels[i]) + " at row " +
                                  std::to_string(i) + " is out of range for logits of shape " + shape_str(z));
    }
  }
  RowSoftmax<Scalar> sm = row_softmax(
      z, [&](std::size_t i, const Scalar* log_p, double& total) { total -= double(log_p[labels[i]]); });
  const double total = sm.total;
  recycle(sm.log_p);
  // The labels travel with the closure in a recycled buffer (as doubles: exact below 2^53), not a
  // copied std::vector: a training step allocates nothing.
  TensorOf<double> saved_labels = empty_tensor<double>({n});
  std::copy(labels.begin(), labels.end(), saved_labels.data());
  return make_result("cross_entropy", scalar_tensor(static_cast<Scalar>(total / double(n))), {logits},
                     [p = SavedTensor(std::move(sm.p)), label_of = SavedTensor(std::move(saved_labels)), n,
                      c](Node& self) {
    const double* labels = label_of.get().data();
    // dz = (p − onehot(labels))·g/n : (n, c)
    if (!self.parent_requires_grad(0)) return;
    if (self.grad_node) {  // create_graph: the same with ops
      Tensor onehot = Tensor::from_shape({n, c});
      onehot.fill(0);
      for (std::size_t i = 0; i < n; ++i) onehot(i, std::size_t(labels[i])) = 1;
      const Variable g = Variable(self.grad_node) * (1.0 / double(n));
      add_variable_to_parent(self, 0, g * (softmax(input_variable(self, 0), 1) - Variable(std::move(onehot))));
      return;
    }
    const Scalar g = self.grad.data()[0] / static_cast<Scalar>(n);
    add_expr_to_parent(self, 0, g * p.get());
    Scalar* dz = self.parents[0]->grad.data();
    for (std::size_t i = 0; i < n; ++i) dz[i * c + std::size_t(labels[i])] -= g;
  });
}

template <class Scalar>
BasicVariable<Scalar> mse(const BasicVariable<Scalar>& prediction, const BasicVariable<Scalar>& target) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& p = prediction.value();
  const Tensor& t = target.value();
  check_same_shape("mse", p, t, "prediction", "target");
  double total = 0;  // N = 0: 0/0 = NaN below, as mean() and PyTorch; the gradient is empty
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double d = double(p.data()[i]) - double(t.data()[i]);
    total += d * d;
  }
  const Scalar k = Scalar(2) / static_cast<Scalar>(p.size());
  Tensor loss = scalar_tensor(static_cast<Scalar>(total / double(p.size())));
  return make_result("mse", std::move(loss), {prediction, target}, [k](Node& self) {
    // dp = 2g(p − t)/N, dt = −dp
    backward_of_scalar(self, [k](const auto& g, const auto& p, const auto& t) { return (k * g) * (p - t); },
                       [k](const auto& g, const auto& p, const auto& t) { return (-k * g) * (p - t); });
  });
}

#define XTGRAD_INSTANTIATE_LOSSES(T)                                                                \
  template BasicVariable<T> cross_entropy(const BasicVariable<T>&, const BasicVariable<T>&);        \
  template BasicVariable<T> cross_entropy(const BasicVariable<T>&, const std::vector<std::size_t>&); \
  template BasicVariable<T> mse(const BasicVariable<T>&, const BasicVariable<T>&);
XTGRAD_INSTANTIATE_LOSSES(float)
XTGRAD_INSTANTIATE_LOSSES(double)
#undef XTGRAD_INSTANTIATE_LOSSES

}  // namespace xtgrad
