#include "xtgrad/nn/init.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

namespace {

// Fans of `shape` for initializer `who`; a zero fan would make the variance infinite.
Fans checked_fans(const Shape& shape, const char* who) {
  if (shape.size() != 2 && shape.size() != 4) {
    throw std::invalid_argument(std::string(who) +
                                ": needs a 2-d weight shape (fan_in, fan_out) or a 4-d convolution weight "
                                "(out_channels, in_channels/groups, kh, kw), got " +
                                shape_str(shape));
  }
  for (std::size_t d : shape) {
    if (d == 0) {
      throw std::invalid_argument(std::string(who) + ": fan_in and fan_out must be positive, got shape " +
                                  shape_str(shape));
    }
  }
  if (shape.size() == 2) return {shape[0], shape[1]};
  const std::size_t taps = shape[2] * shape[3];  // a kernel's taps, shared by both fans
  return {shape[1] * taps, shape[0] * taps};
}

}  // namespace

Fans fans_of(const Shape& shape) { return checked_fans(shape, "fans_of"); }

Tensor std_normal(const Shape& shape, Rng& rng, double gain) {
  if (!std::isfinite(gain))
    throw std::invalid_argument("std_normal: gain must be finite, got " + std::to_string(gain));
  return randn(shape, rng, 0.0, gain);  // gain·N(0, 1) = N(0, gain²); a negative gain flips signs only
}

Tensor he_normal(const Shape& shape, Rng& rng) {
  const Fans f = checked_fans(shape, "he_normal");
  return randn(shape, rng, 0.0, std::sqrt(2.0 / static_cast<double>(f.in)));  // σ = √(2/fan_in)
}

Tensor he_uniform(const Shape& shape, Rng& rng) {
  const Fans f = checked_fans(shape, "he_uniform");
  const double a = std::sqrt(6.0 / static_cast<double>(f.in));  // Var U(−a, a) = a²/3 = 2/fan_in
  return rand_uniform(shape, rng, -a, a);
}

Tensor glorot_normal(const Shape& shape, Rng& rng) {
  const Fans f = checked_fans(shape, "glorot_normal");
  return randn(shape, rng, 0.0, std::sqrt(2.0 / static_cast<double>(f.in + f.out)));  // σ = √(2/(in+out))
}

Tensor glorot_uniform(const Shape& shape, Rng& rng) {
  const Fans f = checked_fans(shape, "glorot_uniform");
  const double a = std::sqrt(6.0 / static_cast<double>(f.in + f.out));  // Var = a²/3 = 2/(in+out)
  return rand_uniform(shape, rng, -a, a);
}

Tensor zeros(const Shape& shape) { return xt::zeros<Scalar>(shape); }

Initializer initializer_from_name(const std::string& name) {
  if (name == "std_normal") return [](const Shape& s, Rng& rng) { return std_normal(s, rng, 0.01); };
  if (name == "he_normal") return he_normal;
  if (name == "he_uniform") return he_uniform;
  if (name == "glorot_normal") return glorot_normal;
  if (name == "glorot_uniform") return glorot_uniform;
  throw std::invalid_argument("unknown initializer '" + name +
                              "'; valid: std_normal, he_normal, he_uniform, glorot_normal, glorot_uniform");
}

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
