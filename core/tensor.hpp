// The array type every xtgrad value and gradient is stored in, and the scalar it holds.
//
// Precision is a property of the types: `TensorOf<float>`, `BasicVariable<float>` train;
// `TensorOf<double>`, `BasicVariable<double>` check gradients; both live in every program
// that links the library, and the ops and the engine are declared once for any scalar type
// (template declarations, specialised in the library for float and double).
//
// `Scalar`, `Tensor`, `Variable`, ... name the default precision, float, as std::string names
// std::basic_string<char>: core/defaults.hpp declares them. core/ and ops/ never use them:
// everything there is a template over the scalar, explicitly instantiated for float and
// double in the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xarray.hpp>

namespace xtgrad {

// Row-major, contiguous, dynamic rank, holding T (float or double).
template <class T>
using TensorOf = xt::xarray<T>;
using Shape = std::vector<std::size_t>;

// T, in a position template argument deduction ignores: `op(x, 0.5)` takes T from x alone.
template <class T>
struct TypeIdentity {
  using type = T;
};
template <class T>
using NonDeduced = typename TypeIdentity<T>::type;

// Whether T is a scalar type the library is built for.
template <class T>
inline constexpr bool is_supported_scalar_v = std::is_same_v<T, float> || std::is_same_v<T, double>;

// "(64, 784)"; "()" for a 0-d tensor.
std::string shape_str(const Shape& shape);
// Same, for the shape of `t` (any xtensor container or expression).
template <class E, class = std::enable_if_t<xt::is_xexpression<E>::value>>
std::string shape_str(const E& t) {
  return shape_str(Shape(t.shape().begin(), t.shape().end()));
}

// Shape of a tensor as an owning vector.
template <class T>
Shape shape_of(const TensorOf<T>& t) {
  return Shape(t.shape().begin(), t.shape().end());
}

// Number of elements of a shape (1 for rank 0).
std::size_t element_count(const Shape& shape);

// ---- Making tensors (PyTorch's factories; float unless T is given: zeros<double>({2, 3})) ----
// A shape is a braced list or a Shape (`zeros({n, 3})`, `zeros(x.shape())`), or the extents one by
// one as in PyTorch (`zeros(n, 3)`, any integer types; a negative extent throws). Each returns
// a new Tensor, the data of a Variable: Variable(zeros({2, 3}), /*requires_grad=*/true) is
// torch.zeros(2, 3, requires_grad=True), Variable(t) a constant.

// Every element 0.
template <class T = float>
TensorOf<T> zeros(const Shape& shape);
// Every element 1.
template <class T = float>
TensorOf<T> ones(const Shape& shape);
// Every element `value`.
template <class T = float>
TensorOf<T> full(const Shape& shape, double value);
// Uninitialised elements (write them before reading).
template <class T = float>
TensorOf<T> empty(const Shape& shape);
// 1-d: start, start + step, … while < stop (> stop for a negative step), as torch.arange and
// numpy.arange: ⌈(stop − start)/step⌉ elements. Throws for step 0 or a non-finite bound.
template <class T = float>
TensorOf<T> arange(double start, double stop, double step = 1.0);
// arange(0, stop).
template <class T = float>
TensorOf<T> arange(double stop);

// The extents as a Shape; throws std::invalid_argument naming `op` for a negative extent.
Shape shape_from_extents(const char* op, std::initializer_list<long long> extents);
template <class T = float, class... I, std::enable_if_t<(std::is_integral_v<I> && ...), int> = 0>
TensorOf<T> zeros(I... extents) {
  return zeros<T>(shape_from_extents("zeros", {static_cast<long long>(extents)...}));
}
template <class T = float, class... I, std::enable_if_t<(std::is_integral_v<I> && ...), int> = 0>
TensorOf<T> ones(I... extents) {
  return ones<T>(shape_from_extents("ones", {static_cast<long long>(extents)...}));
}
template <class T = float, class... I, std::enable_if_t<(std::is_integral_v<I> && ...), int> = 0>
TensorOf<T> empty(I... extents) {
  return empty<T>(shape_from_extents("empty", {static_cast<long long>(extents)...}));
}

// The argument of tensor(): a number, or a braced list of them, nested to any depth. Every
// level of braces is one axis ({{1}, {2}} is (2, 1)): a list is never read as a number.
template <class T>
class TensorLiteral {
 public:
  // A number of any arithmetic type (converted to T): tensor({n, 2.5}) with an int n works.
  template <class U, std::enable_if_t<std::is_arithmetic_v<U>, int> = 0>
  TensorLiteral(U value) : value_(static_cast<T>(value)), scalar_(true) {}  // NOLINT: implicit, like a literal
  TensorLiteral(std::initializer_list<TensorLiteral> items) : items_(items), scalar_(false) {}
  bool is_scalar() const { return scalar_; }
  T value() const { return value_; }
  const std::vector<TensorLiteral>& items() const { return items_; }

 private:
  std::vector<TensorLiteral> items_;
  T value_ = T(0);
  bool scalar_;
};

// A tensor from (nested) braced lists, as torch.tensor: tensor({{1, 2}, {3, 4}}) is (2, 2),
// tensor({{1}, {2}}) (2, 1), tensor(3.5) 0-d. Ragged lists throw std::invalid_argument. T does
// not come from the numbers: float unless given (tensor<double>({0.1, 0.2})).
template <class T = float>
TensorOf<T> tensor(const TensorLiteral<NonDeduced<T>>& data);

// Rows start … stop − 1 of t (its first axis), Python rules: negative start/stop count from the
// end, both clamped into [0, extent] (an empty range gives 0 rows): a copy, t[start:stop] in
// PyTorch. Throws for a 0-d t. The differentiable form on a Variable: x.rows(start, stop).
template <class T>
TensorOf<T> rows(const TensorOf<T>& t, std::int64_t start, std::int64_t stop);

}  // namespace xtgrad
