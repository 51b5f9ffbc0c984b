#include "xtgrad/regularizers/prox.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

void check_threshold(const char* who, double threshold) {
  if (!std::isfinite(threshold) || threshold < 0) {
    throw std::invalid_argument(std::string(who) + ": threshold must be finite and >= 0, got " +
                                format_coefficient(threshold));
  }
}

std::size_t shrink(Tensor& w, Scalar t) {
  Scalar* data = w.data();
  std::size_t zeros = 0;
  for (std::size_t i = 0, n = w.size(); i < n; ++i) {
    const Scalar a = std::abs(data[i]) - t;  // |w| − t; ≤ 0 → exactly 0
    data[i] = a > 0 ? std::copysign(a, data[i]) : Scalar(0);
    zeros += data[i] == 0;
  }
  return zeros;
}

}  // namespace

std::size_t soft_threshold(Tensor& w, double threshold) {
  check_threshold("soft_threshold", threshold);
  return shrink(w, Scalar(threshold));
}

std::size_t soft_threshold(const NamedParameters& params, const Selection& selection,
                           double threshold) {
  check_threshold("soft_threshold", threshold);
  std::size_t zeros = 0;
  std::unordered_set<const Node*> seen;
  for (const auto& [name, param] : params) {
    if (!param.defined()) {
      throw std::invalid_argument("soft_threshold: parameter '" + name + "' is an empty Variable");
    }
    if (!selection.selects(name, param) || !seen.insert(param.node().get()).second) continue;
    Variable handle = param;  // aliases the parameter's node
    zeros += shrink(handle.mutable_value(), Scalar(threshold));
  }
  return zeros;
}

bool apply_prox(const Regularizer& reg, const NamedParameters& params, double lr,
                std::size_t epoch) {
  if (!std::isfinite(lr) || !(lr > 0)) {
    throw std::invalid_argument("apply_prox: lr must be finite and > 0, got " +
                                format_coefficient(lr));
  }
  const double l1 = reg.prox_l1();
  if (l1 == 0 || !reg.active(epoch)) return false;
  soft_threshold(params, reg.prox_selection(), lr * l1);
  return true;
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
