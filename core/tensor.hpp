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

}  // namespace xtgrad
