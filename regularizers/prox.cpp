#include "xtgrad/regularizers/prox.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_set>

#include "xtgrad/core/parallel.hpp"

namespace xtgrad {
namespace {

void check_threshold(const char* who, double threshold) {
  if (!std::isfinite(threshold) || threshold < 0) {
    throw std::invalid_argument(std::string(who) + ": threshold must be finite and >= 0, got " +
                                format_coefficient(threshold));
  }
}

// w ← sign(w)·max(|w| − t, 0) on every core above kElementwiseGrain elements; the number of
// zeros it leaves (an exact count, summed over the chunks).
template <class Scalar>
std::size_t shrink(TensorOf<Scalar>& w, Scalar t) {
  Scalar* data = w.data();
  return parallel_reduce(
      0, w.size(), kElementwiseGrain, std::size_t(0),
      [&](std::size_t b, std::size_t e) {
        std::size_t zeros = 0;
        for (std::size_t i = b; i < e; ++i) {
          const Scalar a = std::abs(data[i]) - t;  // |w| − t; ≤ 0 → exactly 0
          data[i] = a > 0 ? std::copysign(a, data[i]) : Scalar(0);
          zeros += data[i] == 0;
        }
        return zeros;
      },
      [](std::size_t a, std::size_t b) { return a + b; });
}

}  // namespace

template <class Scalar>
std::size_t soft_threshold(TensorOf<Scalar>& w, double threshold) {
  check_threshold("soft_threshold", threshold);
  return shrink(w, Scalar(threshold));
}

template <class Scalar>
std::size_t soft_threshold(const NamedParametersOf<Scalar>& params, const BasicSelection<Scalar>& selection,
                           double threshold) {
  check_threshold("soft_threshold", threshold);
  std::size_t zeros = 0;
  std::unordered_set<const BasicNode<Scalar>*> seen;
  for (const auto& [name, param] : params) {
    if (!param.defined()) {
      throw std::invalid_argument("soft_threshold: parameter '" + name + "' is an empty Variable");
    }
    if (!selection.selects(name, param) || !seen.insert(param.node().get()).second) continue;
    BasicVariable<Scalar> handle = param;  // aliases the parameter's node
    zeros += shrink(handle.mutable_value(), Scalar(threshold));
  }
  return zeros;
}

template <class Scalar>
bool apply_prox(const BasicRegularizer<Scalar>& reg, const NamedParametersOf<Scalar>& params, double lr,
                std::size_t epoch) {
  if (!std::isfinite(lr) || !(lr > 0)) {
    throw std::invalid_argument("apply_prox: lr must be finite and > 0, got " +
                                format_coefficient(lr));
  }
  if (!reg.active(epoch)) return false;
  return reg.prox_step(params, lr);
}

template std::size_t soft_threshold(TensorOf<float>&, double);
template std::size_t soft_threshold(TensorOf<double>&, double);
template std::size_t soft_threshold(const NamedParametersOf<float>&, const BasicSelection<float>&, double);
template std::size_t soft_threshold(const NamedParametersOf<double>&, const BasicSelection<double>&, double);
template bool apply_prox(const BasicRegularizer<float>&, const NamedParametersOf<float>&, double, std::size_t);
template bool apply_prox(const BasicRegularizer<double>&, const NamedParametersOf<double>&, double, std::size_t);

}  // namespace xtgrad
