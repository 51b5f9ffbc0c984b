#include "xtgrad/regularizers/mixup.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/indexing.hpp"

namespace xtgrad {

namespace {

std::string number_str(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", x);
  return buf;
}

// log G, G ~ Gamma(a, 1), a > 0 (Marsaglia & Tsang 2000; for a < 1, G = G' · U^(1/a) with
// G' ~ Gamma(a + 1, 1), kept as a logarithm: U^(1/a) underflows for small a).
double log_gamma_draw(double a, Rng& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double boost = 0;  // log U^(1/a)
  if (a < 1) {
    double u = 0;
    while (u == 0) u = uniform(rng);
    boost = std::log(u) / a;
    a += 1;
  }
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0, v = 0;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = uniform(rng);
    if (u < 1 - 0.0331 * x * x * x * x || (u > 0 && std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v)))) {
      return std::log(d * v) + boost;
    }
  }
}

}  // namespace

double sample_beta(double a, double b, Rng& rng) {
  if (!(std::isfinite(a) && a > 0 && std::isfinite(b) && b > 0)) {
    throw std::invalid_argument("sample_beta: a and b must be finite and > 0, got a = " + number_str(a) +
                                ", b = " + number_str(b));
  }
  const double la = log_gamma_draw(a, rng), lb = log_gamma_draw(b, rng);
  return 1.0 / (1.0 + std::exp(lb - la));  // G₁/(G₁ + G₂) = 1/(1 + G₂/G₁)
}

template <class T>
BasicMixup<T>::BasicMixup(double alpha) : alpha_(alpha) {
  if (!(std::isfinite(alpha) && alpha > 0)) {
    throw std::invalid_argument("mixup: alpha must be finite and > 0 (lambda ~ Beta(alpha, alpha)), got " +
                                number_str(alpha));
  }
}

template <class T>
void BasicMixup<T>::draw(std::size_t rows, Rng& rng) {
  lambda_ = sample_beta(alpha_, alpha_, rng);
  permutation_.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) permutation_[i] = i;
  for (std::size_t i = rows; i > 1; --i) {  // Fisher–Yates: swap i − 1 with a uniform j ≤ i − 1
    std::uniform_int_distribution<std::size_t> pick(0, i - 1);
    std::swap(permutation_[i - 1], permutation_[pick(rng)]);
  }
}

template <class T>
void BasicMixup<T>::set(double lambda, std::vector<std::size_t> permutation) {
  if (!(lambda >= 0 && lambda <= 1)) {
    throw std::invalid_argument("mixup: lambda must be in [0, 1], got " + number_str(lambda));
  }
  std::vector<char> seen(permutation.size(), 0);
  for (std::size_t i = 0; i < permutation.size(); ++i) {
    const std::size_t p = permutation[i];
    if (p >= permutation.size() || seen[p]) {
      throw std::invalid_argument("mixup: the pairing is not a permutation of 0.." +
                                  std::to_string(permutation.size()) + "-1 (entry " + std::to_string(i) + " is " +
                                  std::to_string(p) + ")");
    }
    seen[p] = 1;
  }
  lambda_ = lambda;
  permutation_ = std::move(permutation);
}

template <class T>
void BasicMixup<T>::check_rows(const char* what, const TensorOf<T>& x) const {
  const std::size_t n = x.dimension() == 0 ? 0 : x.shape()[0];
  if (x.dimension() == 0 || n != permutation_.size()) {
    throw std::invalid_argument(std::string("mixup: ") + what + " " + shape_str(x) + " must have " +
                                std::to_string(permutation_.size()) +
                                " rows, the size of the drawn pairing (draw(rows, rng) or set() first)");
  }
}

template <class T>
void BasicMixup<T>::mix_inputs(TensorOf<T>& inputs) {
  check_rows("inputs", inputs);
  const std::size_t n = permutation_.size();
  const std::size_t row = n ? inputs.size() / n : 0;
  scratch_.resize(inputs.shape());
  std::copy(inputs.data(), inputs.data() + inputs.size(), scratch_.data());
  const T a = static_cast<T>(lambda_), b = static_cast<T>(1 - lambda_);
  for (std::size_t i = 0; i < n; ++i) {
    T* out = inputs.data() + i * row;
    const T* x = scratch_.data() + i * row;
    const T* x_pi = scratch_.data() + permutation_[i] * row;
    for (std::size_t k = 0; k < row; ++k) out[k] = a * x[k] + b * x_pi[k];  // λ·x + (1 − λ)·x[π]
  }
}

template <class T>
BasicVariable<T> BasicMixup<T>::mix(const BasicVariable<T>& inputs) const {
  check_rows("inputs", inputs.value());
  return inputs * lambda_ + index_select(inputs, 0, permutation_) * (1 - lambda_);
}

template <class T>
BasicVariable<T> BasicMixup<T>::loss(const LossFunction& loss, const BasicVariable<T>& output,
                                     const BasicVariable<T>& targets) const {
  check_rows("targets", targets.value());
  const BasicVariable<T> permuted = index_select(targets, 0, permutation_);
  return loss(output, targets) * lambda_ + loss(output, permuted) * (1 - lambda_);
}

template class BasicMixup<float>;
template class BasicMixup<double>;

}  // namespace xtgrad
