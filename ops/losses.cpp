#include "xtgrad/ops/losses.hpp"

#include <cmath>
#include <stdexcept>

#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

// Row-wise log-softmax of z (n, c) into a new (n, c) tensor, max-shifted.
Tensor row_log_softmax(const Tensor& z) {
  const std::size_t n = z.shape()[0], c = z.shape()[1];
  Tensor out = Tensor::from_shape({n, c});
  for (std::size_t i = 0; i < n; ++i) {
    const Scalar* zi = z.data() + i * c;
    Scalar* oi = out.data() + i * c;
    Scalar m = zi[0];
    for (std::size_t j = 1; j < c; ++j) m = zi[j] > m ? zi[j] : m;
    double s = 0;
    for (std::size_t j = 0; j < c; ++j) s += std::exp(double(zi[j] - m));
    const Scalar lse = m + static_cast<Scalar>(std::log(s));
    for (std::size_t j = 0; j < c; ++j) oi[j] = zi[j] - lse;
  }
  return out;
}

void check_logits(const char* op, const Tensor& z) {
  if (z.dimension() != 2 || z.shape()[0] == 0 || z.shape()[1] == 0) {
    throw std::invalid_argument(std::string(op) + ": expects logits of shape (n, classes) with n, classes > 0, got " +
                                shape_str(z));
  }
}

}  // namespace

Variable cross_entropy(const Variable& logits, const Variable& targets) {
  const Tensor& z = logits.value();
  const Tensor& y = targets.value();
  check_logits("cross_entropy", z);
  check_same_shape("cross_entropy", z, y, "logits", "targets");
  const std::size_t n = z.shape()[0];
  Tensor log_p = row_log_softmax(z);
  double total = 0;
  for (std::size_t i = 0; i < z.size(); ++i) total -= double(y.data()[i]) * double(log_p.data()[i]);
  Tensor loss(static_cast<Scalar>(total / double(n)));
  return make_result("cross_entropy", std::move(loss), {logits, targets}, [log_p = std::move(log_p), n](Node& self) {
    const Scalar g = self.grad.data()[0] / static_cast<Scalar>(n);
    const Tensor& y = self.parent_value(1);
    if (self.parent_requires_grad(0)) {
      // dz = g·(p ⊙ Σ_c y − y) : (n, c)
      const Tensor row_mass = xt::sum(y, {1}, xt::keep_dims | xt::evaluation_strategy::immediate);
      self.add_to_parent(0, g * (xt::exp(log_p) * row_mass - y));
    }
    // dy = −g·log p : (n, c)
    if (self.parent_requires_grad(1)) self.add_to_parent(1, -g * log_p);
  });
}

Variable cross_entropy(const Variable& logits, const std::vector<std::size_t>& labels) {
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
  Tensor log_p = row_log_softmax(z);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total -= double(log_p.data()[i * c + labels[i]]);
  Tensor loss(static_cast<Scalar>(total / double(n)));
  return make_result("cross_entropy", std::move(loss), {logits}, [log_p = std::move(log_p), labels, n, c](Node& self) {
    // dz = (p − onehot(labels))·g/n : (n, c)
    const Scalar g = self.grad.data()[0] / static_cast<Scalar>(n);
    Tensor dz = xt::exp(log_p);
    for (std::size_t i = 0; i < n; ++i) dz.data()[i * c + labels[i]] -= Scalar(1);
    dz *= g;
    self.add_to_parent(0, std::move(dz));
  });
}

Variable mse(const Variable& prediction, const Variable& target) {
  const Tensor& p = prediction.value();
  const Tensor& t = target.value();
  check_same_shape("mse", p, t, "prediction", "target");
  if (p.size() == 0) throw std::invalid_argument("mse: empty inputs of shape " + shape_str(p));
  const Tensor diff = p - t;
  double total = 0;
  for (std::size_t i = 0; i < diff.size(); ++i) total += double(diff.data()[i]) * double(diff.data()[i]);
  const std::size_t count = diff.size();
  Tensor loss(static_cast<Scalar>(total / double(count)));
  return make_result("mse", std::move(loss), {prediction, target}, [diff, count](Node& self) {
    // dp = 2g(p − t)/N, dt = −dp
    const Scalar k = Scalar(2) * self.grad.data()[0] / static_cast<Scalar>(count);
    if (self.parent_requires_grad(0)) self.add_to_parent(0, k * diff);
    if (self.parent_requires_grad(1)) self.add_to_parent(1, -k * diff);
  });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
