#include "xtgrad/nn/sam.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace xtgrad {
namespace nn {

template <class T>
BasicSAM<T>::BasicSAM(BasicOptimizer<T>& base, double rho)
    : BasicOptimizer<T>("SAM", base.parameters(), base.learning_rate(), 0.0, {"saved_weights"}, false),
      base_(base),
      rho_(rho),
      perturbed_(base.parameters().size(), 0) {
  this->require(std::isfinite(rho) && rho > 0, "rho must be finite and > 0", rho);
  this->share_groups_with(base);
}

template <class T>
void BasicSAM<T>::step() {
  throw std::logic_error(
      "SAM: step() alone cannot compute the gradient at w + eps; use step_with(recompute) (nn::fit does) or "
      "first_step(), a new forward and backward pass, then second_step()");
}

template <class T>
void BasicSAM<T>::step_with(const std::function<void()>& recompute) {
  first_step();
  this->zero_grad();
  recompute();
  second_step();
}

template <class T>
double BasicSAM<T>::first_step() {
  const auto& params = this->parameters();
  double sum_sq = 0;  // ‖g‖₂² over every parameter with a gradient, accumulated in double
  for (const auto& [name, p] : params) {
    if (!p.has_grad()) continue;
    const TensorOf<T>& g = p.grad();
    for (std::size_t k = 0; k < g.size(); ++k) sum_sq += double(g.data()[k]) * double(g.data()[k]);
  }
  const double norm = std::sqrt(sum_sq);
  // ε = ρ·g/‖g‖; a zero gradient gives ε = 0 (no direction to climb), never 0/0.
  const T scale = norm > 0 ? static_cast<T>(rho_ / norm) : T(0);
  for (std::size_t i = 0; i < params.size(); ++i) {
    perturbed_[i] = params[i].second.has_grad();
    if (!perturbed_[i]) continue;
    TensorOf<T>& w = this->checked_value(i);
    TensorOf<T>& saved = this->slot(i).buffers[0];
    const TensorOf<T>& g = params[i].second.grad();
    T* wd = w.data();
    const T* gd = g.data();
    T* sd = saved.data();
    for (std::size_t k = 0; k < w.size(); ++k) {
      sd[k] = wd[k];
      wd[k] += scale * gd[k];  // w ← w + ε
    }
  }
  pending_ = true;
  return norm;
}

template <class T>
void BasicSAM<T>::second_step() {
  if (!pending_) throw std::logic_error("SAM: second_step() without a first_step() before it");
  const auto& params = this->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!perturbed_[i]) continue;
    BasicVariable<T> p = params[i].second;  // (a handle: the same node)
    TensorOf<T>& w = p.mutable_value();
    const TensorOf<T>& saved = this->slot(i).buffers[0];
    std::copy(saved.data(), saved.data() + saved.size(), w.data());  // w exactly as before first_step()
  }
  pending_ = false;
  base_.step();
}

template class BasicSAM<float>;
template class BasicSAM<double>;

}  // namespace nn
}  // namespace xtgrad
