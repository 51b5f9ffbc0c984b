// The array type every xtgrad value and gradient is stored in, and the scalar it holds.
//
// Precision is a property of the types: `TensorOf<float>`, `BasicVariable<float>` train;
// `TensorOf<double>`, `BasicVariable<double>` check gradients; both live in every program
// that links the library, and the ops and the engine are declared once for any scalar type
// (template declarations, specialised in the library for float and double).
//
// `Scalar`, `Tensor`, `Variable` and `Node` name the *default* precision of a translation
// unit: float when it links `xtgrad::xtgrad`, double when it links `xtgrad::xtgrad_f64`
// (whose nn/ and regularizers/ are built in double). The few internals an op's source uses
// (buffer cache, accumulate.hpp, sum_to, ...) are declared for that default precision, in an
// inline namespace per precision (f32 / f64), so both sets coexist in one library.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xarray.hpp>

#if defined(XTGRAD_DOUBLE) && defined(XTGRAD_FLOAT)
#error "xtgrad: this target links both xtgrad::xtgrad (float nn) and xtgrad::xtgrad_f64 (double nn); one is enough: both give the ops, the engine and gradcheck in float and double (BasicVariable<float>, BasicVariable<double>)"
#endif
#ifdef XTGRAD_DOUBLE
#define XTGRAD_ABI f64
#else
#define XTGRAD_ABI f32
#endif

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

inline namespace XTGRAD_ABI {

#ifdef XTGRAD_DOUBLE
using Scalar = double;
#else
using Scalar = float;
#endif

using Tensor = TensorOf<Scalar>;

// "(64, 784)"; "()" for a 0-d tensor.
std::string shape_str(const Shape& shape);
// Same, for the shape of `t`.
std::string shape_str(const Tensor& t);

// Shape of a tensor as an owning vector.
Shape shape_of(const Tensor& t);

// Number of elements of a shape (1 for rank 0).
std::size_t element_count(const Shape& shape);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
