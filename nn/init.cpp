#include "xtgrad/nn/init.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
namespace nn {

namespace {

// Fans of `shape` for initializer `who`; a zero fan would make the variance infinite.
Fans checked_fans(const Shape& shape, const char* who) {
  if (shape.size() != 2 && shape.size() != 4) {
    throw std::invalid_argument(std::string(who) +
                                ": needs a 2-d Linear weight shape (out, in) or a 4-d convolution weight "
                                "(out_channels, in_channels/groups, kh, kw), got " +
                                shape_str(shape));
  }
  for (std::size_t d : shape) {
    if (d == 0) {
      throw std::invalid_argument(std::string(who) + ": fan_in and fan_out must be positive, got shape " +
                                  shape_str(shape));
    }
  }
  if (shape.size() == 2) return {shape[1], shape[0]};  // (out, in), PyTorch's layout
  const std::size_t taps = shape[2] * shape[3];  // a kernel's taps, shared by both fans
  return {shape[1] * taps, shape[0] * taps};
}

}  // namespace

Fans fans_of(const Shape& shape) { return checked_fans(shape, "fans_of"); }

template <class T>
TensorOf<T> std_normal(const Shape& shape, Rng& rng, double gain) {
  if (!std::isfinite(gain))
    throw std::invalid_argument("std_normal: gain must be finite, got " + std::to_string(gain));
  return randn<T>(shape, rng, 0.0, gain);  // gain·N(0, 1) = N(0, gain²); a negative gain flips signs only
}

template <class T>
TensorOf<T> he_normal(const Shape& shape, Rng& rng) {
  const Fans f = checked_fans(shape, "he_normal");
  return randn<T>(shape, rng, 0.0, std::sqrt(2.0 / static_cast<double>(f.in)));  // σ = √(2/fan_in)
}

template <class T>
TensorOf<T> he_uniform(const Shape& shape, Rng& rng) {
  const Fans f = checked_fans(shape, "he_uniform");
  const double a = std::sqrt(6.0 / static_cast<double>(f.in));  // Var U(−a, a) = a²/3 = 2/fan_in
  return rand_uniform<T>(shape, rng, -a, a);
}

template <class T>
TensorOf<T> glorot_normal(const Shape& shape, Rng& rng) {
  const Fans f = checked_fans(shape, "glorot_normal");
  return randn<T>(shape, rng, 0.0, std::sqrt(2.0 / static_cast<double>(f.in + f.out)));  // σ = √(2/(in+out))
}

template <class T>
TensorOf<T> glorot_uniform(const Shape& shape, Rng& rng) {
  const Fans f = checked_fans(shape, "glorot_uniform");
  const double a = std::sqrt(6.0 / static_cast<double>(f.in + f.out));  // Var = a²/3 = 2/(in+out)
  return rand_uniform<T>(shape, rng, -a, a);
}

template <class T>
TensorOf<T> zeros(const Shape& shape) {
  return xt::zeros<T>(shape);
}

template <class T>
InitializerOf<T> initializer_from_name(const std::string& name) {
  if (name == "std_normal") return [](const Shape& s, Rng& rng) { return std_normal<T>(s, rng, 0.01); };
  if (name == "he_normal") return he_normal<T>;
  if (name == "he_uniform") return he_uniform<T>;
  if (name == "glorot_normal") return glorot_normal<T>;
  if (name == "glorot_uniform") return glorot_uniform<T>;
  throw std::invalid_argument("unknown initializer '" + name +
                              "'; valid: std_normal, he_normal, he_uniform, glorot_normal, glorot_uniform");
}

#define XTGRAD_NN_INIT_INSTANTIATE(T)                                              \
  template TensorOf<T> std_normal<T>(const Shape&, Rng&, double);                  \
  template TensorOf<T> he_normal<T>(const Shape&, Rng&);                           \
  template TensorOf<T> he_uniform<T>(const Shape&, Rng&);                          \
  template TensorOf<T> glorot_normal<T>(const Shape&, Rng&);                       \
  template TensorOf<T> glorot_uniform<T>(const Shape&, Rng&);                      \
  template TensorOf<T> zeros<T>(const Shape&);                                     \
  template InitializerOf<T> initializer_from_name<T>(const std::string&);
XTGRAD_NN_INIT_INSTANTIATE(float)
XTGRAD_NN_INIT_INSTANTIATE(double)
#undef XTGRAD_NN_INIT_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
