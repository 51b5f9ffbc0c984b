// Reductions over every axis, one axis or several: sum, mean, max/min, amax/amin, argmax/argmin,
// prod, var/std_dev (with a Correction), logsumexp. Each takes `Axes` (default: every axis) and
// `keepdims` (reduced axes kept with extent 1).
//
// Ties of max/min, as PyTorch: over one named axis, max(x, axis) and min(x, axis) give the whole
// gradient to the first extremal element along the axis (PyTorch's max(dim) returns that index);
// over every axis or several, and always for amax/amin, ties split it evenly. A NaN in a lane
// makes its max/min NaN (and argmax/argmin its index).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "xtgrad/core/index.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// The axes a reduction runs over: every axis (Axes::all()), one axis (an int converts: sum(x, 1)),
// or a list (sum(x, {0, 2})). Negative axes count from the end. A bool never converts (so
// var(x, false), deprecated, cannot mean axis 0), and an empty list is an error at the reduction: it is not
// a spelling of "every axis". Up to kInline axes are stored without allocating.
class Axes {
 public:
  static constexpr std::size_t kInline = 8;

  Axes() = delete;  // `{}` would be ambiguous between "no axis" and "every axis": say which
  static Axes all() noexcept { return Axes(AllTag{}); }
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Axes(I axis) : all_(false), size_(1) {  // NOLINT: implicit, so sum(x, 1) reads as it does in numpy
    inline_[0] = static_cast<int>(axis);
  }
  Axes(std::initializer_list<int> axes) : Axes(axes.begin(), axes.size()) {}
  explicit Axes(const std::vector<int>& axes) : Axes(axes.data(), axes.size()) {}

  bool is_all() const noexcept { return all_; }
  std::size_t size() const noexcept { return size_; }  // 0 for all()
  const int* begin() const noexcept { return size_ <= kInline ? inline_ : heap_.data(); }
  const int* end() const noexcept { return begin() + size_; }
  int operator[](std::size_t i) const noexcept { return begin()[i]; }
  std::string str() const;  // "all axes", "axis 1" or "axes (0, 2)", for messages

 private:
  struct AllTag {};
  explicit Axes(AllTag) noexcept : all_(true), size_(0) {}
  Axes(const int* axes, std::size_t n) : all_(false), size_(n) {
    if (n > kInline) {
      heap_.assign(axes, axes + n);
      return;
    }
    for (std::size_t i = 0; i < n; ++i) inline_[i] = axes[i];
  }

  bool all_;
  std::size_t size_;
  int inline_[kInline] = {};
  std::vector<int> heap_;  // only when size_ > kInline
};

// Σ x over `axes`; dx = g broadcast back. Accumulated in double where a lane is contiguous.
template <class T>
BasicVariable<T> sum(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);
// Σ x / N over `axes`, N the elements per output; NaN for N = 0; dx = g/N broadcast back.
template <class T>
BasicVariable<T> mean(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);

// Largest over `axes`; ties: to the first over one axis, split evenly otherwise (see above).
template <class T>
BasicVariable<T> max(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);
// Smallest over `axes`; ties as max.
template <class T>
BasicVariable<T> min(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);
// Largest over `axes`; ties split the gradient evenly (PyTorch's amax).
template <class T>
BasicVariable<T> amax(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);
// Smallest over `axes`; ties split the gradient evenly.
template <class T>
BasicVariable<T> amin(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);

// Index of the first largest element (no gradient), an IndexTensor (int64, core/index.hpp) as
// PyTorch's: over every axis the flat index, shape (); over one axis the index along it. Several
// axes throw std::invalid_argument.
template <class T>
IndexTensor argmax(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);
// Index of the first smallest element, as argmax.
template <class T>
IndexTensor argmin(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);

// Π x over `axes`; dxᵢ = g·Π_{j≠i} xⱼ (exact with zeros in the lane); 1 for N = 0.
template <class T>
BasicVariable<T> prod(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);

// Bessel's correction of var and std_dev, PyTorch's `correction`: the divisor is N − correction
// (clamped at 0). Correction(1) the unbiased estimate (the default), Correction(0) the biased one
// (the population variance). Explicit, so that no number or bool is read as one by accident:
// var(x, 0) is axis 0, var(x, Correction(0)) the biased variance over every axis.
struct Correction {
  constexpr explicit Correction(double value) : value(value) {}
  double value;
};

// Σ(x − mean)² / (N − correction) over `axes`; dx = 2g(x − mean)/(N − correction). NaN when the
// divisor is 0 (as PyTorch).
template <class T>
BasicVariable<T> var(const BasicVariable<T>& x, Axes axes = Axes::all(), Correction correction = Correction(1),
                     bool keepdims = false);
// √var (PyTorch's std); dx = g(x − mean)/((N − correction)·std), 0 in a lane where std = 0.
template <class T>
BasicVariable<T> std_dev(const BasicVariable<T>& x, Axes axes = Axes::all(), Correction correction = Correction(1),
                         bool keepdims = false);
// Over every axis with the given correction: var(x, Correction(0)).
template <class T>
BasicVariable<T> var(const BasicVariable<T>& x, Correction correction) {
  return var(x, Axes::all(), correction);
}
template <class T>
BasicVariable<T> std_dev(const BasicVariable<T>& x, Correction correction) {
  return std_dev(x, Axes::all(), correction);
}

// The bool spellings of 0.1 (PyTorch's deprecated `unbiased`): true = Correction(1), false =
// Correction(0). var(x, false) reads like var(x, 0) (axis 0) and means something else, so they
// are deprecated; only an exact bool selects them.
template <class T, class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
[[deprecated("var(x, axes, bool unbiased): write var(x, axes, Correction(unbiased ? 1 : 0))")]]
BasicVariable<T> var(const BasicVariable<T>& x, Axes axes, B unbiased, bool keepdims = false) {
  return var(x, axes, Correction(unbiased ? 1 : 0), keepdims);
}
template <class T, class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
[[deprecated("std_dev(x, axes, bool unbiased): write std_dev(x, axes, Correction(unbiased ? 1 : 0))")]]
BasicVariable<T> std_dev(const BasicVariable<T>& x, Axes axes, B unbiased, bool keepdims = false) {
  return std_dev(x, axes, Correction(unbiased ? 1 : 0), keepdims);
}
template <class T, class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
[[deprecated("var(x, bool unbiased) is not var(x, axis 0): write var(x, Correction(unbiased ? 1 : 0))")]]
BasicVariable<T> var(const BasicVariable<T>& x, B unbiased) {
  return var(x, Axes::all(), Correction(unbiased ? 1 : 0));
}
template <class T, class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
[[deprecated("std_dev(x, bool unbiased) is not std_dev(x, axis 0): write std_dev(x, Correction(unbiased ? 1 : 0))")]]
BasicVariable<T> std_dev(const BasicVariable<T>& x, B unbiased) {
  return std_dev(x, Axes::all(), Correction(unbiased ? 1 : 0));
}

// m + ln Σ e^(x − m) over `axes`, m the lane maximum: finite for any finite x; dx = g·e^(x − y)
// (the softmax over those axes); −inf for N = 0.
template <class T>
BasicVariable<T> logsumexp(const BasicVariable<T>& x, Axes axes = Axes::all(), bool keepdims = false);

}  // namespace xtgrad
